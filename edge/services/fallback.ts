import { headers } from "../../shared/headers.ts";
import type { ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import type { EdgeEnv } from "../env.ts";
import type { FailureReason } from "./pool-client.ts";
import { completionAsSse } from "./sse.ts";

export interface FallbackConfig {
  status: 200 | 503;
  message: string;
}

/** The fallback settings of the edge's config. */
export function fallbackConfig(config: EdgeEnv): FallbackConfig {
  return { status: config.FALLBACK_STATUS, message: config.FALLBACK_MESSAGE };
}

/** The configured answer when no pool can: a normal completion, so clients need no special case. */
export function fallbackCompletion(
  model: string,
  requestId: string,
  config: FallbackConfig,
): ChatCompletionResponse {
  return {
    id: `fallback-${requestId}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model,
    choices: [{ index: 0, message: { role: "assistant", content: config.message }, finish_reason: "stop" }],
    usage: { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
  };
}

/** Headers every fallback carries: the reason, and Retry-After when the status is 503. */
export function fallbackHeaders(reason: FailureReason, config: FallbackConfig): Record<string, string> {
  return config.status === 503
    ? { [headers.fallback]: reason, "retry-after": "1" }
    : { [headers.fallback]: reason };
}

/** A chat fallback, as JSON or as a (complete, well-formed) SSE stream. */
export function chatFallbackResponse(options: {
  reason: FailureReason;
  model: string;
  stream: boolean;
  includeUsage: boolean;
  requestId: string;
  config: FallbackConfig;
  extraHeaders: Record<string, string>;
}): Response {
  const completion = fallbackCompletion(options.model, options.requestId, options.config);
  const common = { ...options.extraHeaders, ...fallbackHeaders(options.reason, options.config) };
  if (options.stream) {
    return new Response(completionAsSse(completion, options.includeUsage), {
      status: options.config.status,
      headers: { ...common, "content-type": "text/event-stream", "cache-control": "no-cache" },
    });
  }
  return new Response(JSON.stringify(completion), {
    status: options.config.status,
    headers: { ...common, "content-type": "application/json" },
  });
}
