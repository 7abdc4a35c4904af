import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from "prom-client";
import type { RequestEvent } from "../../../shared/events.ts";
import type { RequestRowStats } from "../../db/request-rows.ts";
import type { EventProducerStats } from "../../events/producer.ts";
import { GuardrailMetrics } from "../../guardrails/metrics.ts";
import { abstentionRules } from "../../retrieval/abstention-rules.ts";
import { PoolMetricsGatherer, type PoolSiblings } from "./pool-aggregate.ts";

/** Latency histogram buckets in seconds: they bracket the tier budgets (50 ms, 200 ms, 5 s). */
export const latencyBucketsSeconds = [0.05, 0.1, 0.2, 0.5, 1, 2, 5] as const;

export interface PoolMetricsOptions {
  /** The event producer's counters, read at scrape time (spool depth, drops, Kafka state). */
  eventStats: () => EventProducerStats;
  /** The request-row writer's counters, read at scrape time. */
  requestRowStats?: () => RequestRowStats;
  /** Requests this worker is serving now, read at scrape time (the autoscaling signal). */
  inFlight?: () => number;
  /** Latest drift score per tier, read at scrape time (cached by the caller); failures keep the last values. */
  driftScores?: () => Promise<ReadonlyMap<string, number>>;
  /** Labels on every series; a worker sets `worker` (its pid) since N workers share one port. */
  defaultLabels?: Record<string, string>;
  /** Node/Bun process metrics (CPU, memory, event loop). Default true. */
  processMetrics?: boolean;
  /** The drift job's alarm level (DRIFT_SCORE_THRESHOLD), exported for the drift alert rule. */
  driftThreshold?: number;
  /** Each tier's latency budget (ms), exported so alert rules compare p99 with the configured budget. */
  tierBudgetsMs?: Readonly<Record<string, number>>;
  /** The router's circuit breakers, read at scrape time (upstream health and openings). */
  breakers?: () => readonly BreakerReading[];
  /** The pool's other workers: when set, {@link PoolMetrics.render} returns every worker's series. */
  pool?: PoolSiblings;
}

/** One endpoint's circuit breaker as a scrape reads it. */
export interface BreakerReading {
  endpoint: string;
  state: "closed" | "open" | "half-open";
  /** Times the circuit opened since the worker started. */
  openings: number;
}

/** One finished HTTP request, as the latency histogram records it. */
export interface ObservedRequest {
  method: string;
  /** The matched route pattern, not the raw path (a bounded label set). */
  route: string;
  status: number;
  seconds: number;
}

/**
 * Prometheus metrics of one pool worker (prom-client, one registry per worker, so tests can build
 * several). Request latency comes from the HTTP middleware; cache, fallback and upstream numbers from the
 * request events this worker publishes — the same events ClickHouse aggregates, so the two agree.
 */
export class PoolMetrics {
  readonly registry = new Registry();
  readonly #requestDuration: Histogram<"method" | "route" | "status">;
  readonly #events: Counter<"tier" | "cache">;
  readonly #fallbacks: Counter<"reason">;
  readonly #abstentions: Counter<"rule">;
  readonly #tierLatency: Histogram<"tier" | "route">;
  readonly #upstreamRequests: Counter<"provider" | "outcome">;
  readonly #upstreamUp: Gauge<"endpoint">;
  readonly #drift = new Map<string, number>();
  readonly #gatherer: PoolMetricsGatherer | undefined;
  readonly #guardrails: GuardrailMetrics;
  #lookups = 0;
  #hits = 0;

  constructor(options: PoolMetricsOptions) {
    const registers = [this.registry];
    if (options.defaultLabels) this.registry.setDefaultLabels(options.defaultLabels);
    this.#guardrails = new GuardrailMetrics(registers);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
    this.#gatherer = options.pool && new PoolMetricsGatherer({ ...options.pool, own: this.registry });
    this.#requestDuration = new Histogram({
      name: "http_request_duration_seconds",
      help: "Pool HTTP request latency, from the first byte in to the response handed back.",
      labelNames: ["method", "route", "status"],
      buckets: [...latencyBucketsSeconds],
      registers,
    });
    this.#events = new Counter({
      name: "tiergate_request_events_total",
      help: "Request events published by this worker.",
      labelNames: ["tier", "cache"],
      registers,
    });
    this.#fallbacks = new Counter({
      name: "fallback_total",
      help: "Requests answered by a fallback, by reason.",
      labelNames: ["reason"],
      registers,
    });
    this.#abstentions = new Counter({
      name: "tiergate_abstentions_total",
      help: "RAG answers that abstained on purpose (no context, below threshold, unsupported), by rule.",
      labelNames: ["rule"],
      registers,
    });
    this.#tierLatency = new Histogram({
      name: "tiergate_request_latency_seconds",
      help: "End-to-end latency of requests a model tier served (cache hits excluded), by tier and route.",
      labelNames: ["tier", "route"],
      buckets: [...latencyBucketsSeconds],
      registers,
    });
    this.#upstreamRequests = new Counter({
      name: "tiergate_upstream_requests_total",
      help: "Model calls by provider and outcome (ok: status < 500).",
      labelNames: ["provider", "outcome"],
      registers,
    });
    const budgets = new Gauge({
      name: "tiergate_tier_budget_seconds",
      help: "Each tier's latency budget (TIER_BUDGETS_MS): the p99 alert's threshold.",
      labelNames: ["tier"],
      registers,
    });
    for (const [tier, ms] of Object.entries(options.tierBudgetsMs ?? {})) budgets.set({ tier }, ms / 1000);
    if (options.driftThreshold !== undefined) {
      new Gauge({
        name: "tiergate_drift_score_threshold",
        help: "The drift score at which a window counts as drifting (DRIFT_SCORE_THRESHOLD).",
        registers,
      }).set(options.driftThreshold);
    }
    const breakers = options.breakers;
    this.#upstreamUp = new Gauge({
      name: "tiergate_upstream_up",
      help: "1 while the upstream endpoint's circuit is closed, 0 while it is open or probing.",
      labelNames: ["endpoint"],
      registers,
      collect() {
        for (const b of breakers?.() ?? []) this.set({ endpoint: b.endpoint }, b.state === "closed" ? 1 : 0);
      },
    });
    new Counter({
      name: "tiergate_breaker_openings_total",
      help: "Times an upstream endpoint's circuit breaker opened, by endpoint.",
      labelNames: ["endpoint"],
      registers,
      collect() {
        this.reset();
        for (const b of breakers?.() ?? []) this.inc({ endpoint: b.endpoint }, b.openings);
      },
    });
    const metrics = this;
    new Gauge({
      name: "cache_hit_ratio",
      help: "Share of this worker's request events answered from the response cache (since start).",
      registers,
      collect() {
        this.set(metrics.#lookups === 0 ? 0 : metrics.#hits / metrics.#lookups);
      },
    });
    new Gauge({
      name: "drift_score",
      help: "Latest drift score per tier (0 = none); set by the drift job or read from drift_scores.",
      labelNames: ["tier"],
      registers,
      async collect() {
        if (options.driftScores) {
          const scores = await options.driftScores().catch(() => undefined);
          for (const [tier, score] of scores ?? []) metrics.#drift.set(tier, score);
        }
        for (const [tier, score] of metrics.#drift) this.set({ tier }, score);
      },
    });
    /** A gauge set, on each scrape, from one field of a stats snapshot. */
    const statGauge =
      <S>(stats: () => S) =>
      (name: string, help: string, read: (s: S) => number) =>
        new Gauge({
          name,
          help,
          registers,
          collect() {
            this.set(read(stats()));
          },
        });
    const spoolGauge = statGauge<EventProducerStats>(options.eventStats);
    spoolGauge(
      "tiergate_event_spool_events",
      "Events waiting in the on-disk spool for Kafka.",
      (s) => s.spooledEvents,
    );
    spoolGauge(
      "tiergate_event_spool_bytes",
      "Bytes of the on-disk event spool not yet delivered.",
      (s) => s.spooledBytes,
    );
    spoolGauge(
      "tiergate_events_buffered",
      "Events in memory, not yet sent or spooled.",
      (s) => s.buffered + s.inFlight,
    );
    spoolGauge(
      "tiergate_events_dropped",
      "Events lost since start (full spool, unreadable lines).",
      (s) => s.dropped,
    );
    spoolGauge("tiergate_events_sent", "Events acknowledged by Kafka since start.", (s) => s.sent);
    spoolGauge("tiergate_kafka_up", "0 while the last produce attempt failed, else 1.", (s) =>
      s.kafkaDown ? 0 : 1,
    );
    const inFlight = options.inFlight;
    if (inFlight) {
      new Gauge({
        name: "tiergate_in_flight_requests",
        help: "Requests this worker is serving now (autoscale on its average per pod).",
        registers,
        collect() {
          this.set(inFlight());
        },
      });
    }
    const rowStats = options.requestRowStats;
    if (rowStats) {
      const rowGauge = statGauge<RequestRowStats>(rowStats);
      rowGauge(
        "tiergate_request_rows_buffered",
        "Request rows in memory, not yet written to Postgres.",
        (s) => s.buffered + s.inFlight,
      );
      rowGauge(
        "tiergate_request_rows_written",
        "Request rows written to Postgres since start.",
        (s) => s.written,
      );
      rowGauge(
        "tiergate_request_rows_dropped",
        "Request rows lost since start (Postgres unreachable, full buffer).",
        (s) => s.dropped,
      );
    }
  }

  /** Records one finished HTTP request (the metrics middleware calls it). */
  observeRequest({ method, route, status, seconds }: ObservedRequest): void {
    this.#requestDuration.observe({ method, route, status: String(status) }, seconds);
  }

  /** Counts a published request event: cache lookups, fallbacks by reason, upstream outcome. */
  recordEvent(event: RequestEvent): void {
    this.#events.inc({ tier: event.tier, cache: event.cache });
    this.#guardrails.record(event);
    if (event.cache !== "BYPASS") {
      this.#lookups++;
      if (event.cache === "HIT") this.#hits++;
    }
    if (abstentionRules.has(event.fallback_reason)) this.#abstentions.inc({ rule: event.fallback_reason });
    else if (event.fallback_reason !== "") this.#fallbacks.inc({ reason: event.fallback_reason });
    if (event.cache !== "HIT" && event.tier !== "") {
      this.#tierLatency.observe({ tier: event.tier, route: event.route }, event.latency_ms / 1000);
    }
    if (event.cache !== "HIT" && event.provider !== "") {
      this.#upstreamRequests.inc({ provider: event.provider, outcome: event.status < 500 ? "ok" : "error" });
    }
  }

  /** Sets the drift score of a tier (the drift job, or anything that computed one). */
  setDriftScore(tier: string, score: number): void {
    this.#drift.set(tier, score);
  }

  /** Sets whether an upstream endpoint is healthy (the router's health checks). */
  setUpstreamHealth(endpoint: string, healthy: boolean): void {
    this.#upstreamUp.set({ endpoint }, healthy ? 1 : 0);
  }

  /** The Prometheus text of this worker, or of every worker of the pool when it has siblings. */
  async render(): Promise<string> {
    return this.#gatherer ? (await this.#gatherer.gather()).text : this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
