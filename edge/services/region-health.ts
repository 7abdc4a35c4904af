export interface Region {
  name: string;
  url: string;
}

interface RegionState {
  ewmaMs: number;
  errorRate: number;
  openUntil: number;
  consecutiveFailures: number;
}

export interface BreakerConfig {
  /** Consecutive failures that open the circuit. */
  failures: number;
  /** How long an open circuit stays open before one trial call is let through. */
  openMs: number;
}

const ewmaAlpha = 0.2;

/**
 * Passive health of the regional pools: EWMA latency and error rate per region, plus a circuit
 * breaker that opens after `failures` consecutive failures and half-opens after `openMs`.
 */
export class RegionHealth {
  private readonly state = new Map<string, RegionState>();

  constructor(
    private readonly regions: readonly Region[],
    private readonly breaker: BreakerConfig,
  ) {
    for (const region of regions) {
      this.state.set(region.name, { ewmaMs: 0, errorRate: 0, openUntil: 0, consecutiveFailures: 0 });
    }
  }

  /** Regions whose circuit is closed (or half-open), best first: low latency weighted by error rate. */
  available(now = Date.now()): Region[] {
    const score = (r: Region) => {
      const h = this.state.get(r.name);
      return h ? h.ewmaMs * (1 + 10 * h.errorRate) : Number.POSITIVE_INFINITY;
    };
    return this.regions.filter((r) => !this.isOpen(r.name, now)).sort((a, b) => score(a) - score(b));
  }

  isOpen(name: string, now = Date.now()): boolean {
    return (this.state.get(name)?.openUntil ?? 0) > now;
  }

  record(name: string, ms: number, failed: boolean, now = Date.now()): void {
    const h = this.state.get(name);
    if (!h) return;
    h.ewmaMs = h.ewmaMs === 0 ? ms : h.ewmaMs + ewmaAlpha * (ms - h.ewmaMs);
    h.errorRate += ewmaAlpha * ((failed ? 1 : 0) - h.errorRate);
    h.consecutiveFailures = failed ? h.consecutiveFailures + 1 : 0;
    if (failed && h.consecutiveFailures >= this.breaker.failures) h.openUntil = now + this.breaker.openMs;
    if (!failed) h.openUntil = 0;
  }

  /** A snapshot for debugging and tests. */
  snapshot(): Record<string, RegionState> {
    return Object.fromEntries([...this.state].map(([name, s]) => [name, { ...s }]));
  }
}
