export type BreakerState = "closed" | "open" | "half-open";

export interface BreakerOptions {
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long an open circuit refuses calls before letting one probe through (half-open). */
  cooldownMs: number;
}

/**
 * A per-endpoint circuit breaker. Closed: calls pass, consecutive failures are counted. Open: calls are
 * refused until the cool-down ends. Half-open: exactly one probe passes; its success closes the circuit,
 * its failure opens it again for another cool-down.
 */
export class CircuitBreaker {
  private failures = 0;
  private openedAt: number | undefined;
  private probeInFlight = false;
  /** How many times the circuit has opened since start (a re-open after a failed probe counts). */
  openings = 0;

  constructor(
    private readonly options: BreakerOptions,
    private readonly now: () => number = Date.now,
  ) {}

  get state(): BreakerState {
    if (this.openedAt === undefined) return "closed";
    return this.now() - this.openedAt >= this.options.cooldownMs ? "half-open" : "open";
  }

  /** Whether a call may go to this endpoint now. */
  canPass(): boolean {
    const state = this.state;
    return state === "closed" || (state === "half-open" && !this.probeInFlight);
  }

  /** Marks a call as started; in half-open it is the probe. */
  onStart(): void {
    if (this.state === "half-open") this.probeInFlight = true;
  }

  onSuccess(): void {
    this.failures = 0;
    this.openedAt = undefined;
    this.probeInFlight = false;
  }

  onFailure(): void {
    const state = this.state;
    this.probeInFlight = false;
    this.failures++;
    if (state === "half-open" || (state === "closed" && this.failures >= this.options.failureThreshold)) {
      this.openedAt = this.now();
      this.openings++;
    }
  }

  /** A call that ended without telling us anything about the endpoint (the client went away). */
  onNeutral(): void {
    this.probeInFlight = false;
  }
}
