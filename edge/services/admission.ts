/**
 * Admission control at the edge, three layers, all local arithmetic (no shared store on any request):
 * 1. {@link RequestGate}: the isolate's bound on API requests in progress, driven by how long they
 *    queue inside the isolate; past it a request is refused as it enters, before any parsing, so a
 *    swamped isolate spends its CPU on the requests it admitted;
 * 2. {@link AdaptiveConcurrencyLimit}: the isolate's limit on concurrent forwards, driven by the pools'
 *    latency, capped below what its file descriptors can carry;
 * 3. the isolate's share of each region (region-admission.ts), fed by the load every pool answer
 *    reports; a region that sheds is skipped, and with none left the forward is refused here.
 * A refusal at any layer is 503 `overloaded` with Retry-After, at once, instead of a queue.
 *
 * The forward limit is a gradient limit in the spirit of Netflix's concurrency-limits:
 * `limit ← (1-s)·limit + s·(limit·gradient + √limit)`, where the gradient compares
 * the no-load latency (the lowest sample of the last one or two windows, so it follows a pool that
 * really got slower) with the latest sample: `clamp((tolerance·base + slack) / sample, 0.5, 1)`. While
 * latency stays near the no-load level the limit grows by about √limit per sample; when queueing
 * raises latency past that the limit shrinks toward what the pool sustains. `slack` keeps
 * millisecond jitter of a very fast pool from throttling it.
 * A failed forward (timeout, 5xx, a pool shedding) cuts the limit multiplicatively. The limit only
 * grows while it is in use (at least half of it in flight), so a quiet isolate does not inflate it.
 * When the answering pool reports most of its slots free (`x-tiergate-pool-load` under
 * `spareUtilization`), a latency rise is not the pool's queue but CPU contention here or on the
 * machine: it does not cut the limit (measured: on a busy machine the gradient pinned the limit at its
 * floor and starved an idle pool, halving goodput), nor grow it while the request gate reports this
 * isolate queueing (measured: growing then tripled the forwards in flight and the latency with them).
 */

import { GatewayError } from "../../shared/errors.ts";
import { clamp } from "../lib/clamp.ts";

/** Which admission layer refused a request, in `x-tiergate-shed` (for operators and benchmarks). */
export const shedHeader = "x-tiergate-shed";

/**
 * The refusal of a shed request (503 `overloaded`, Retry-After, and which layer refused it): one
 * instance per layer, thrown every time, because a new error per shed request would capture a stack
 * each time, CPU spent exactly when there is none to spare. It carries nothing of any request
 * (onError adds the request id).
 */
export function overloadedBy(layer: "gate" | "forwards" | "regions", message: string): GatewayError {
  return new GatewayError("OVERLOADED", message, { headers: { "retry-after": "1", [shedHeader]: layer } });
}

/** The forward limit's refusal. */
export const overloaded = overloadedBy("forwards", "The gateway is at capacity; retry shortly.");

/** The request gate's refusal. */
export const overloadedAtEntry = overloadedBy("gate", "The gateway is at capacity; retry shortly.");

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
  /** Latency (ms) added to `tolerance·base` before queueing counts. */
  slackMs?: number;
  /** How long a no-load latency minimum stands (ms); the base is the lower of this window's and the last. */
  baseWindowMs?: number;
  /** Factor applied to the limit when a forward fails. */
  backoff?: number;
  /** Below this pool utilization (its reported in flight / cap) latency does not cut the limit. */
  spareUtilization?: number;
  /** True while this isolate itself is queueing (the request gate's verdict): no growth then. */
  congested?: () => boolean;
}

/** A granted slot: release it exactly once (later calls are ignored) when the forward is done. */
export interface AdmissionPermit {
  /** `failed`: timed out, 5xx or refused by the pool; the latency then is not used as a sample. */
  release(failed: boolean, poolUtilization?: number): void;
  /** Gives the slot back without a sample (the forward never reached a pool). */
  cancel(): void;
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
  #baseCurrent = Number.POSITIVE_INFINITY;
  #basePrevious = Number.POSITIVE_INFINITY;
  #windowStart: number;
  #admitted = 0;
  #shed = 0;
  readonly #tolerance: number;
  readonly #smoothing: number;
  readonly #slackMs: number;
  readonly #baseWindowMs: number;
  readonly #backoff: number;
  readonly #spareUtilization: number;

  constructor(
    private readonly config: AdmissionConfig,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.#limit = clamp(config.initialLimit, config.minLimit, config.maxLimit);
    this.#tolerance = config.tolerance ?? 2;
    this.#smoothing = config.smoothing ?? 0.2;
    this.#slackMs = config.slackMs ?? 5;
    this.#baseWindowMs = config.baseWindowMs ?? 10_000;
    this.#windowStart = now();
    this.#backoff = config.backoff ?? 0.9;
    this.#spareUtilization = config.spareUtilization ?? 0.25;
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
      release: (failed, poolUtilization) => {
        if (released) return;
        released = true;
        this.#inFlight--;
        this.#onSample(this.now() - started, inFlightAtStart, failed, poolUtilization);
      },
      cancel: () => {
        if (released) return;
        released = true;
        this.#inFlight--;
      },
    };
  }

  #onSample(latency: number, inFlightAtStart: number, failed: boolean, poolUtilization?: number): void {
    const { minLimit, maxLimit } = this.config;
    if (failed) {
      this.#limit = clamp(this.#limit * this.#backoff, minLimit, maxLimit);
      return;
    }
    const sample = Math.max(latency, 0.01);
    const base = this.#noLoadLatency(sample);
    if (inFlightAtStart < this.#limit / 2) return;
    // A pool with most of its slots free is not where the latency came from (this isolate's or the
    // machine's CPU is): cutting forwards would only starve it. The request gate bounds that queue.
    const spare = poolUtilization !== undefined && poolUtilization < this.#spareUtilization;
    // Holding for a spare pool must not grow the limit while this isolate is the one queueing.
    if (spare && this.config.congested?.()) return;
    const gradient = spare ? 1 : clamp((this.#tolerance * base + this.#slackMs) / sample, 0.5, 1);
    const estimate = this.#limit * gradient + Math.sqrt(this.#limit);
    this.#limit = clamp(this.#limit * (1 - this.#smoothing) + estimate * this.#smoothing, minLimit, maxLimit);
  }

  /** Records `sample` in the current window; the lowest latency of this window and the last. */
  #noLoadLatency(sample: number): number {
    const now = this.now();
    if (now - this.#windowStart >= this.#baseWindowMs) {
      this.#basePrevious = this.#baseCurrent;
      this.#baseCurrent = Number.POSITIVE_INFINITY;
      this.#windowStart = now;
    }
    this.#baseCurrent = Math.min(this.#baseCurrent, sample);
    return Math.min(this.#baseCurrent, this.#basePrevious);
  }
}
