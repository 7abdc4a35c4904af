import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { FeedbackEvent } from "../../../shared/events.ts";
import { feedbackEventSchema, requestEventSchema } from "../../../shared/events.ts";
import { insertEvents } from "../../../workers/clickhouse/events.ts";
import { startIngest } from "../../../workers/events/consumer.ts";
import { userFeatures } from "../../../workers/events/features.ts";
import { latestDriftScores, windowStats } from "../../../workers/events/stats.ts";
import { waitFor } from "../../stack/process.ts";
import { localClient, sampleEvent, scratchDatabase } from "../clickhouse/local-clickhouse.ts";
import {
  localKafkaBrokers,
  produceStrings,
  scratchTopic,
  useKafkaAndScratchDatabase,
} from "./local-kafka.ts";

const database = scratchDatabase("stats");

describe("stats views, features and feedback", () => {
  const topicsMade = useKafkaAndScratchDatabase(database);

  it("the minute and hour views hold counts, quantiles, cache hits, fallbacks by reason and tokens", async () => {
    const now = Date.now();
    const events = Array.from({ length: 100 }, (_, i) =>
      sampleEvent({
        tenant: "views",
        tier: i < 60 ? "small" : "large",
        user_id: `u${i % 10}`,
        ts: now - 1_000,
        latency_ms: i + 1,
        ttft_ms: (i + 1) / 2,
        cache: i % 5 === 0 ? "HIT" : "MISS",
        fallback_reason: i % 10 === 1 ? "upstream_timeout" : i % 25 === 2 ? "overloaded" : "",
        status: i === 99 ? 503 : 200,
        prompt_tokens: 10,
        completion_tokens: 20,
      }),
    );
    const ch = localClient(database);
    try {
      await insertEvents(ch, events, "views-batch");
      await insertEvents(ch, events, "views-batch"); // a retried batch is not counted twice
      for (const window of ["15m", "24h"] as const) {
        const stats = await windowStats(ch, { window, tenant: "views" });
        expect(stats.bucketSeconds).toBe(window === "15m" ? 60 : 3_600);
        const requests = stats.series.reduce((sum, p) => sum + p.requests, 0);
        expect(requests).toBe(100);
        const point = stats.series.at(-1);
        expect(point?.users).toBe(10);
        expect(point?.cache_hits).toBe(20);
        expect(point?.errors).toBe(1);
        expect(point?.shed).toBe(1); // the one 503, counted once although its batch came twice
        expect(point?.fallback_reasons).toEqual({ upstream_timeout: 10, overloaded: 4 });
        expect(point?.fallbacks).toBe(14);
        expect(point?.latency_ms[0]).toBeGreaterThan(40);
        expect(point?.latency_ms[0]).toBeLessThan(61);
        expect(point?.latency_ms[2]).toBeGreaterThan(95);
        expect(point?.ttft_ms[2]).toBeLessThan(51);
        const tiers = Object.fromEntries(stats.tiers.map((p) => [p.tier, p]));
        expect(tiers.small).toMatchObject({ requests: 60, prompt_tokens: 600, completion_tokens: 1_200 });
        expect(tiers.large).toMatchObject({ requests: 40 });
      }
      expect((await windowStats(ch, { window: "1h", tenant: "nobody" })).series).toEqual([]);
    } finally {
      await ch.close();
    }
  });

  it("user features: request rate and recent fallback rate of one user", async () => {
    const ch = localClient(database);
    try {
      const user = `feature-user-${randomUUID()}`;
      const recent = Array.from({ length: 30 }, (_, i) =>
        sampleEvent({ tenant: "features", user_id: user, fallback_reason: i < 6 ? "upstream_timeout" : "" }),
      );
      const old = Array.from({ length: 50 }, () =>
        sampleEvent({ tenant: "features", user_id: user, ts: Date.now() - 3_600_000 }),
      );
      await insertEvents(ch, [...recent, ...old]);
      const features = await userFeatures(ch, "features", user, 300);
      expect(features).toMatchObject({ requests: 30, requestsPerMinute: 6, fallbackRate: 0.2, errorRate: 0 });
      expect((await userFeatures(ch, "features", "someone-else", 300)).requests).toBe(0);
    } finally {
      await ch.close();
    }
  });

  it("the ingest consumer feeds request events and feedback from their topics into their tables", async () => {
    const eventsTopic = await scratchTopic("stats-events", 2);
    const feedbackTopic = await scratchTopic("stats-feedback", 2);
    topicsMade.push(eventsTopic, feedbackTopic);
    const requestEvent = sampleEvent({ tenant: "fb" });
    const feedback: FeedbackEvent[] = Array.from({ length: 25 }, (_, i) => ({
      feedback_id: randomUUID(),
      ts: Date.now(),
      request_id: requestEvent.request_id,
      tenant: "fb",
      user_id: "u1",
      rating: i % 2 === 0 ? 1 : -1,
      label: i % 2 === 0 ? "helpful" : "wrong",
      comment: "",
    }));
    await produceStrings(eventsTopic, [JSON.stringify(requestEvent)]);
    await produceStrings(feedbackTopic, [...feedback.map((f) => JSON.stringify(f)), '{"rating": 7}']);
    const ch = localClient(database);
    const ingest = startIngest({
      brokers: localKafkaBrokers,
      clickhouse: ch,
      groupId: `stats-${eventsTopic}`,
      sinks: [
        { topic: eventsTopic, table: "events", schema: requestEventSchema },
        { topic: feedbackTopic, table: "feedback", schema: feedbackEventSchema },
      ],
    });
    const joined = z.object({ n: z.number(), bad: z.number() });
    try {
      await waitFor(
        "feedback rows",
        async () => {
          const [row] = await ch.query(
            `SELECT count() AS n, countIf(f.label = 'wrong') AS bad
             FROM feedback AS f FINAL INNER JOIN events AS e FINAL ON e.request_id = f.request_id
             WHERE f.tenant = 'fb'`,
            {},
            joined,
          );
          return row?.n === 25 && row.bad === 12;
        },
        60_000,
        250,
      );
    } finally {
      await ingest.stop();
      await ch.close();
    }
    expect(ingest.stats()).toMatchObject({ inserted: 26, invalid: 1 });
  });

  it("latest drift score per tier", async () => {
    const ch = localClient(database);
    try {
      const now = Date.now();
      await ch.insert("drift_scores", [
        { ts: now - 60_000, tier: "small", model_version: "v1", score: 0.1, components: { kl: 0.1 } },
        { ts: now, tier: "small", model_version: "v1", score: 0.3, components: {} },
        { ts: now, tier: "large", model_version: "v2", score: 0.05, components: {} },
      ]);
      expect(Object.fromEntries(await latestDriftScores(ch))).toEqual({ small: 0.3, large: 0.05 });
    } finally {
      await ch.close();
    }
  });
});
