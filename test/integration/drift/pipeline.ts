import { randomUUID } from "node:crypto";
import type { FeedbackEvent, RequestEvent } from "../../../shared/events.ts";
import type { FeedbackPublisher } from "../../../workers/drift/feedback-publisher.ts";
import type { WindowSample } from "../../../workers/drift/score.ts";
import type { RequestEventPublisher } from "../../../workers/events/types.ts";

export const windowMs = 10 * 60_000;

/** A window-aligned start a few days back (inside every TTL), so the windows never overlap real traffic. */
export function baseTime(daysBack: number): number {
  return Math.floor((Date.now() - daysBack * 86_400_000) / windowMs) * windowMs;
}

export interface WindowTraffic {
  tier: string;
  version: string;
  tenant: string;
  fromMs: number;
  sample: WindowSample;
}

/**
 * Turns one synthetic window into request events (spread over the window) and feedback on its first
 * `labelled` requests (`correct` of them rated +1, the rest −1), and publishes both through the real
 * producers. Returns how many of each were published.
 */
export async function publishWindow(
  events: RequestEventPublisher,
  feedback: FeedbackPublisher,
  traffic: WindowTraffic,
): Promise<{ events: number; feedback: number }> {
  const { sample } = traffic;
  const n = sample.requests;
  const verdicts: FeedbackEvent[] = [];
  for (let i = 0; i < n; i++) {
    const ts = traffic.fromMs + Math.floor(((i + 0.5) * windowMs) / n);
    const requestId = `drift-${randomUUID()}`;
    const event: RequestEvent = {
      event_id: randomUUID(),
      ts,
      request_id: requestId,
      tenant: traffic.tenant,
      user_id: `u${i % 17}`,
      route: "/v1/chat/completions",
      tier: traffic.tier,
      model: "synthetic",
      model_version: traffic.version,
      provider: "openai-compatible",
      status: 200,
      cache: "MISS",
      fallback_reason: i < sample.fallbacks ? "upstream_timeout" : "",
      queue_ms: 1,
      ttft_ms: 10,
      latency_ms: 20,
      prompt_tokens: 10,
      completion_tokens: 10,
      task: sample.tasks[i] ?? "chat",
      confidence: sample.confidences[i] ?? 0.8,
      prompt_chars: Math.max(1, Math.round(sample.promptLengths[i] ?? 100)),
      answer_chars: Math.max(1, Math.round(sample.answerLengths[i] ?? 100)),
      relevance: sample.relevanceScores[i] ?? 0.5,
      prompt_projection: sample.embeddings[i] ?? [],
    };
    events.publish(event);
    if (i < sample.labelled) {
      verdicts.push({
        feedback_id: randomUUID(),
        ts: ts + 1_000,
        request_id: requestId,
        tenant: traffic.tenant,
        user_id: event.user_id,
        rating: i < sample.correct ? 1 : -1,
        label: "",
        comment: "",
      });
    }
  }
  await feedback.publish(verdicts);
  return { events: n, feedback: verdicts.length };
}
