/**
 * Admission control for forwards to the pools: an adaptive concurrency limit per isolate, driven by
 * the pools' latency (a gradient limit in the spirit of Netflix's concurrency-limits). Past the limit a
 * forward is refused at once (the caller answers 503 with Retry-After) instead of queueing until
 * timeouts pile up and the process runs out of descriptors.
 *
 * The limit follows `limit ← (1-s)·limit + s·(limit·gradient + √limit)`, where the gradient compares
 * the long-term latency (an exponential average over about `longWindow` samples) with the latest
 * sample: `clamp((tolerance·long + slack) / sample, 0.5, 1)`. While latency stays near its long-term
 * level the limit grows by about √limit per sample; when queueing raises latency past `tolerance`
 * times that level the limit shrinks toward what the pool sustains. Against a long-term average (not
 * the lowest latency seen) a busy but healthy host is not mistaken for queueing; when the long-term
 * average sits far above fresh samples (after an overload) it comes down faster. `slack` keeps
 * millisecond jitter of a very fast pool from throttling it.
 * A failed forward (timeout, 5xx, a pool shedding) cuts the limit multiplicatively. The limit only
 * grows while it is in use (at least half of it in flight), so a quiet isolate does not inflate it.
 */

/** Settings of {@link AdaptiveConcurrencyLimit}. */
export interface AdmissionConfig {
  /** The limit before any sample. */
  initialLimit: number;
  minLimit: number;
  /** Hard cap, kept below what the process's file descriptors can carry. */
  maxLimit: number;
  /** How much latency may grow over its long-term average before the limit shrinks (Netflix: 1.5). */
  tolerance?: number;
  /** Weight of each new limit estimate (0..1). */
  smoothing?: number;
  /** Latency (ms) added to `tolerance·long` before queueing counts. */
  slackMs?: number;
  /** Samples the long-term latency average spans. */
  longWindow?: number;
  /** Factor applied to the limit when a forward fails. */
  backoff?: number;
}

/** A granted slot: release it exactly once (later calls are ignored) when the forward is done. */
export interface AdmissionPermit {
  /** `failed`: timed out, 5xx or refused by the pool; the latency then is not used as a sample. */
  release(failed: boolean): void;
}

/** Counters for tests and logs. */
export interface AdmissionStats {
  limit: number;
  inFlight: number;
  admitted: number;
  shed: number;
}

/** The isolate's concurrency limit on forwards; no I/O, so it costs a few arithmetic steps per call. */
export class AdaptiveConcurrencyLimit {
  #limit: number;
  #inFlight = 0;
  #longLatency: number | undefined;
  #admitted = 0;
  #shed = 0;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #slackMs: number;
  readonly #alpha: number;
  readonly #backoff: number;

  constructor(
    private readonly config: AdmissionConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#limit = clamp(config.initialLimit, config.minLimit, config.maxLimit);
    this.#tolerance = config.tolerance ?? 1.5;
    this.#smoothing = config.smoothing ?? 0.2;
    this.#slackMs = config.slackMs ?? 5;
    this.#alpha = 2 / ((config.longWindow ?? 200) + 1);
    this.#backoff = config.backoff ?? 0.9;
  }

  /** The current limit (whole forwards). */
  get limit(): number {
    return Math.floor(this.#limit);
  }

  stats(): AdmissionStats {
    return { limit: this.limit, inFlight: this.#inFlight, admitted: this.#admitted, shed: this.#shed };
  }

  /** A permit, or null when the limit is reached (shed the forward). */
  tryAcquire(): AdmissionPermit | null {
    if (this.#inFlight >= this.limit) {
      this.#shed++;
      return null;
    }
    this.#inFlight++;
    this.#admitted++;
    const inFlightAtStart = this.#inFlight;
    const started = this.now();
    let released = false;
    return {
      release: (failed) => {
        if (released) return;
        released = true;
        this.#inFlight--;
        this.#onSample(this.now() - started, inFlightAtStart, failed);
      },
    };
  }

  #onSample(latency: number, inFlightAtStart: number, failed: boolean): void {
    const { minLimit, maxLimit } = this.config;
    if (failed) {
      this.#limit = clamp(this.#limit * this.#backoff, minLimit, maxLimit);
      return;
    }
    const sample = Math.max(latency, 0.01);
    const long = this.#longTerm(sample);
    if (inFlightAtStart < this.#limit / 2) return;
    const gradient = clamp((this.#tolerance * long + this.#slackMs) / sample, 0.5, 1);
    const estimate = this.#limit * gradient + Math.sqrt(this.#limit);
    this.#limit = clamp(this.#limit * (1 - this.#smoothing) + estimate * this.#smoothing, minLimit, maxLimit);
  }

  /** Folds `sample` into the long-term average and returns it. */
  #longTerm(sample: number): number {
    const previous = this.#longLatency ?? sample;
    const long = previous + this.#alpha * (sample - previous);
    // After an overload the average sits far above fresh samples: let it come down faster.
    this.#longLatency = long > 2 * sample ? long * 0.95 : long;
    return this.#longLatency;
  }
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}
