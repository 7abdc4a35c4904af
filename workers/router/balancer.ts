import { type EndpointLoad, fetchVllmLoad } from "../providers/openai-compatible/metrics.ts";
import type { EndpointSpec } from "../providers/types.ts";
import { type BreakerOptions, type BreakerState, CircuitBreaker } from "./breaker.ts";

/** What the balancer knows about one endpoint. Kept across registry reloads (keyed by endpoint id). */
export class EndpointStats {
  outstanding = 0;
  /** EWMA of successful call latency (ms); 0 until the first sample. */
  ewmaMs = 0;
  load: EndpointLoad | undefined;
  loadReadAt = 0;
  loadReading = false;
  picks = 0;
  constructor(readonly breaker: CircuitBreaker) {}
}

export interface BalancerOptions extends BreakerOptions {
  /** Weight of the newest sample in the EWMA (0..1). */
  ewmaAlpha: number;
  /** How often an endpoint's `/metrics` is read at most (ms); it is read in the background while in use. */
  metricsIntervalMs: number;
  /** The second choice wins only when its cost is below this share of the first's (hysteresis). */
  preferFirstBelow: number;
}

export const defaultBalancerOptions: BalancerOptions = {
  failureThreshold: 3,
  cooldownMs: 5_000,
  ewmaAlpha: 0.3,
  metricsIntervalMs: 1_000,
  preferFirstBelow: 0.8,
};

/**
 * Power of two choices within a tier. Two candidates are drawn by weight (with replacement), and the
 * one with the lower cost wins, where cost = (outstanding + upstream queue + 1) × EWMA latency ×
 * (1 + KV-cache usage). The first draw keeps the request unless the second is clearly cheaper, so
 * equally healthy endpoints share traffic by weight while a slow or loaded one sheds it.
 * Endpoints whose circuit is open are not candidates.
 */
export class Balancer {
  private readonly stats = new Map<string, EndpointStats>();

  constructor(
    readonly options: BalancerOptions = defaultBalancerOptions,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
  ) {}

  /** Every endpoint seen so far with its breaker state and how often its circuit opened (for metrics). */
  breakers(): { endpoint: string; state: BreakerState; openings: number }[] {
    return [...this.stats].map(([endpoint, stats]) => ({
      endpoint,
      state: stats.breaker.state,
      openings: stats.breaker.openings,
    }));
  }

  statsOf(endpoint: EndpointSpec): EndpointStats {
    let stats = this.stats.get(endpoint.id);
    if (!stats) {
      stats = new EndpointStats(new CircuitBreaker(this.options, this.now));
      this.stats.set(endpoint.id, stats);
    }
    return stats;
  }

  private cost(endpoint: EndpointSpec): number {
    const stats = this.statsOf(endpoint);
    const queued = stats.load ? stats.load.waiting : 0;
    const kv = stats.load ? stats.load.kvCacheUsage : 0;
    return (stats.outstanding + queued + 1) * Math.max(stats.ewmaMs, 1) * (1 + kv);
  }

  private drawByWeight(candidates: EndpointSpec[]): EndpointSpec {
    const total = candidates.reduce((sum, e) => sum + Math.max(e.weight, 0), 0);
    if (total <= 0) return candidates[Math.floor(this.random() * candidates.length)] as EndpointSpec;
    let ticket = this.random() * total;
    for (const endpoint of candidates) {
      ticket -= Math.max(endpoint.weight, 0);
      if (ticket < 0) return endpoint;
    }
    return candidates[candidates.length - 1] as EndpointSpec;
  }

  /** Picks an endpoint, preferring ones not in `tried`; undefined when every circuit is open. */
  pick(endpoints: readonly EndpointSpec[], tried: ReadonlySet<string> = new Set()): EndpointSpec | undefined {
    const passable = endpoints.filter((e) => e.weight > 0 && this.statsOf(e).breaker.canPass());
    const fresh = passable.filter((e) => !tried.has(e.id));
    const candidates = fresh.length > 0 ? fresh : passable;
    if (candidates.length === 0) return undefined;
    for (const endpoint of candidates) this.refreshLoad(endpoint);
    const first = this.drawByWeight(candidates);
    const second = this.drawByWeight(candidates);
    const chosen = this.cost(second) < this.cost(first) * this.options.preferFirstBelow ? second : first;
    this.statsOf(chosen).picks++;
    return chosen;
  }

  begin(endpoint: EndpointSpec): void {
    const stats = this.statsOf(endpoint);
    stats.outstanding++;
    stats.breaker.onStart();
  }

  /** Ends a call: `ok` feeds the EWMA and closes the breaker, `failed` counts against it. */
  end(endpoint: EndpointSpec, outcome: "ok" | "failed" | "neutral", latencyMs: number): void {
    const stats = this.statsOf(endpoint);
    stats.outstanding = Math.max(0, stats.outstanding - 1);
    if (outcome === "ok") {
      const alpha = this.options.ewmaAlpha;
      stats.ewmaMs = stats.ewmaMs === 0 ? latencyMs : alpha * latencyMs + (1 - alpha) * stats.ewmaMs;
      stats.breaker.onSuccess();
    } else if (outcome === "failed") {
      stats.ewmaMs = Math.max(stats.ewmaMs, latencyMs);
      stats.breaker.onFailure();
    } else {
      stats.breaker.onNeutral();
    }
  }

  /** Reads vLLM's gauges in the background when they are older than the interval. */
  private refreshLoad(endpoint: EndpointSpec): void {
    const stats = this.statsOf(endpoint);
    if (!endpoint.metricsURL || stats.loadReading) return;
    if (this.now() - stats.loadReadAt < this.options.metricsIntervalMs) return;
    stats.loadReading = true;
    stats.loadReadAt = this.now();
    void fetchVllmLoad(endpoint.metricsURL, endpoint.model, 500).then((load) => {
      stats.load = load;
      stats.loadReading = false;
    });
  }
}
