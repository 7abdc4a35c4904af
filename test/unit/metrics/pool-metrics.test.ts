import type { OpenAPIHono } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import type { RequestEvent } from "../../../shared/events.ts";
import { createDocumentedApp } from "../../../shared/openapi.ts";
import type { EventProducerStats } from "../../../workers/events/producer.ts";
import { type BreakerReading, PoolMetrics } from "../../../workers/pool/metrics/pool-metrics.ts";
import { type MetricsEnv, requestMetrics } from "../../../workers/pool/middleware/metrics.ts";
import { registerMetricsRoutes } from "../../../workers/pool/routes/metrics.ts";

const producerStats: EventProducerStats = {
  buffered: 2,
  inFlight: 1,
  spooledEvents: 7,
  spooledBytes: 1_234,
  dropped: 3,
  sent: 40,
  kafkaDown: true,
};

function event(overrides: Partial<RequestEvent>): RequestEvent {
  return {
    event_id: crypto.randomUUID(),
    ts: 0,
    request_id: "r",
    tenant: "t",
    user_id: "u",
    route: "chat",
    tier: "small",
    model: "m",
    model_version: "1",
    provider: "local",
    status: 200,
    cache: "MISS",
    fallback_reason: "",
    queue_ms: 0,
    ttft_ms: 1,
    latency_ms: 2,
    prompt_tokens: 1,
    completion_tokens: 1,
    ...overrides,
  };
}

function metricsApp(metrics: PoolMetrics): OpenAPIHono<MetricsEnv> {
  const app = createDocumentedApp<MetricsEnv>();
  app.use(async (c, next) => {
    c.set("services", { metrics });
    await next();
  });
  app.use(requestMetrics());
  registerMetricsRoutes(app);
  app.get("/slow/:id", async (c) => c.text(c.req.param("id")));
  return app;
}

const sample = (text: string, series: string): number | undefined => {
  const line = text.split("\n").find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
};

describe("PoolMetrics", () => {
  it("exposes the latency buckets, per route pattern, in Prometheus text", async () => {
    const metrics = new PoolMetrics({ eventStats: () => producerStats, processMetrics: false });
    const app = metricsApp(metrics);
    await app.request("/slow/1");
    await app.request("/slow/2");
    const response = await app.request("/metrics");
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    const buckets = text
      .split("\n")
      .filter((l) => l.startsWith("http_request_duration_seconds_bucket") && l.includes('route="/slow/:id"'))
      .map((l) => /le="([^"]+)"/.exec(l)?.[1]);
    expect(buckets).toEqual(["0.05", "0.1", "0.2", "0.5", "1", "2", "5", "+Inf"]);
    expect(
      sample(text, 'http_request_duration_seconds_count{method="GET",route="/slow/:id",status="200"}'),
    ).toBe(2);
  });

  it("counts fallbacks by reason and the cache hit ratio from published events", async () => {
    const metrics = new PoolMetrics({ eventStats: () => producerStats, processMetrics: false });
    metrics.recordEvent(event({ cache: "HIT" }));
    metrics.recordEvent(event({ fallback_reason: "timeout" }));
    metrics.recordEvent(event({ fallback_reason: "timeout" }));
    metrics.recordEvent(event({ fallback_reason: "overload", status: 503 }));
    metrics.recordEvent(event({ cache: "BYPASS" })); // not a cache lookup
    const text = await metrics.render();
    expect(sample(text, 'fallback_total{reason="timeout"}')).toBe(2);
    expect(sample(text, 'fallback_total{reason="overload"}')).toBe(1);
    expect(sample(text, "cache_hit_ratio")).toBe(0.25);
    expect(sample(text, 'tiergate_upstream_requests_total{provider="local",outcome="error"}')).toBe(1);
  });

  it("keeps RAG abstentions out of the fallback rate, in their own series", async () => {
    const metrics = new PoolMetrics({ eventStats: () => producerStats, processMetrics: false });
    metrics.recordEvent(event({ route: "answer", fallback_reason: "no_context" }));
    metrics.recordEvent(event({ route: "answer", fallback_reason: "below_threshold" }));
    metrics.recordEvent(event({ route: "answer", fallback_reason: "unsupported_answer" }));
    metrics.recordEvent(event({ route: "answer", fallback_reason: "retrieval_unavailable" }));
    const text = await metrics.render();
    expect(sample(text, 'fallback_total{reason="no_context"}')).toBeUndefined();
    expect(sample(text, 'tiergate_abstentions_total{rule="no_context"}')).toBe(1);
    expect(sample(text, 'tiergate_abstentions_total{rule="below_threshold"}')).toBe(1);
    expect(sample(text, 'tiergate_abstentions_total{rule="unsupported_answer"}')).toBe(1);
    // A dependency failure is a fallback, not an abstention.
    expect(sample(text, 'fallback_total{reason="retrieval_unavailable"}')).toBe(1);
  });

  it("times model-served requests per tier, leaving cache hits out", async () => {
    const metrics = new PoolMetrics({ eventStats: () => producerStats, processMetrics: false });
    metrics.recordEvent(event({ tier: "small", latency_ms: 30 }));
    metrics.recordEvent(event({ tier: "small", latency_ms: 300 }));
    metrics.recordEvent(event({ tier: "small", latency_ms: 1, cache: "HIT" }));
    const text = await metrics.render();
    expect(sample(text, 'tiergate_request_latency_seconds_count{tier="small",route="chat"}')).toBe(2);
    expect(sample(text, 'tiergate_request_latency_seconds_bucket{le="0.05",tier="small",route="chat"}')).toBe(
      1,
    );
  });

  it("reads upstream health and breaker openings from the router at scrape time", async () => {
    let readings: BreakerReading[] = [{ endpoint: "a", state: "closed", openings: 0 }];
    const metrics = new PoolMetrics({
      eventStats: () => producerStats,
      processMetrics: false,
      breakers: () => readings,
    });
    let text = await metrics.render();
    expect(sample(text, 'tiergate_upstream_up{endpoint="a"}')).toBe(1);
    expect(sample(text, 'tiergate_breaker_openings_total{endpoint="a"}')).toBe(0);
    readings = [{ endpoint: "a", state: "open", openings: 2 }];
    text = await metrics.render();
    expect(sample(text, 'tiergate_upstream_up{endpoint="a"}')).toBe(0);
    expect(sample(text, 'tiergate_breaker_openings_total{endpoint="a"}')).toBe(2);
  });

  it("reports spool depth, Kafka state, drift scores and upstream health", async () => {
    let scores = new Map([["small", 0.4]]);
    const metrics = new PoolMetrics({
      eventStats: () => producerStats,
      driftScores: async () => scores,
      processMetrics: false,
      defaultLabels: { worker: "7" },
    });
    metrics.setUpstreamHealth("vllm-large", false);
    metrics.setDriftScore("large", 0.9);
    const text = await metrics.render();
    expect(sample(text, 'tiergate_event_spool_events{worker="7"}')).toBe(7);
    expect(sample(text, 'tiergate_event_spool_bytes{worker="7"}')).toBe(1_234);
    expect(sample(text, 'tiergate_events_buffered{worker="7"}')).toBe(3);
    expect(sample(text, 'tiergate_kafka_up{worker="7"}')).toBe(0);
    expect(sample(text, 'drift_score{tier="small",worker="7"}')).toBe(0.4);
    expect(sample(text, 'drift_score{tier="large",worker="7"}')).toBe(0.9);
    expect(sample(text, 'tiergate_upstream_up{endpoint="vllm-large",worker="7"}')).toBe(0);
    // A failing source keeps the last values.
    scores = new Map([["small", 0.5]]);
    const failing = new PoolMetrics({
      eventStats: () => producerStats,
      driftScores: () => Promise.reject(new Error("clickhouse down")),
      processMetrics: false,
    });
    failing.setDriftScore("small", 0.2);
    expect(sample(await failing.render(), 'drift_score{tier="small"}')).toBe(0.2);
  });

  it("reports the request-row writer's buffer, written and dropped rows", async () => {
    const metrics = new PoolMetrics({
      eventStats: () => producerStats,
      requestRowStats: () => ({ buffered: 4, inFlight: 5, written: 120, dropped: 6 }),
      processMetrics: false,
    });
    const text = await metrics.render();
    expect(sample(text, "tiergate_request_rows_buffered")).toBe(9);
    expect(sample(text, "tiergate_request_rows_written")).toBe(120);
    expect(sample(text, "tiergate_request_rows_dropped")).toBe(6);
  });

  it("reports the requests in flight, the autoscaling signal", async () => {
    let inFlight = 3;
    const metrics = new PoolMetrics({
      eventStats: () => producerStats,
      inFlight: () => inFlight,
      processMetrics: false,
    });
    expect(sample(await metrics.render(), "tiergate_in_flight_requests")).toBe(3);
    inFlight = 0;
    expect(sample(await metrics.render(), "tiergate_in_flight_requests")).toBe(0);
  });
});
