/**
 * The isolate's request gate: the first admission layer (edge/services/admission.ts has the others).
 *
 * Under a steady 2× overload the isolate's one thread is the bottleneck, and an admitted request
 * spends its time waiting for that thread: a run that timed every 2xx answer at the client, at the
 * isolate's entry and exit and at the pool showed the pool's part at a few ms and nearly all the rest
 * between entry and exit or before entry, in the event loop's queue. That queue grows with the
 * requests admitted (Little's law), so the gate bounds them. It reads the queue from how long requests
 * take from entering the isolate to their forward, which no slow pool or upstream lengthens (a slow
 * upstream must never shrink the bound). Clocks inside workerd stand still between I/O events, but a
 * request's awaits before its forward (key check, cache read) are I/O, so that time includes its waits
 * for the loop. (A zero-delay timer's lateness read only 2–5 ms in workerd while requests waited
 * 100 ms and more: workerd does not let timers show the loop's queue.)
 */

import { clamp } from "../lib/clamp.ts";

/** Settings of {@link RequestGate}. */
export interface RequestGateConfig {
  /** The bound on requests in progress before any sample. */
  initialBound: number;
  minBound: number;
  maxBound: number;
  /** The time a request may take to reach its forward (ms) before the isolate counts as queueing. */
  targetMs?: number;
  /** The window over which requests' times to forward are judged (ms; at least four requests). */
  intervalMs?: number;
  /**
   * How long the isolate must go without a queue and without refusing anyone (ms) before the bound
   * is lifted again and bursts are admitted up to `maxBound`.
   */
  releaseMs?: number;
}

/**
 * The isolate's bound on API requests in progress (entered, not yet answered). Each window
 * (`intervalMs`, 50 ms: an overload's first flood is cut back within a few windows) is judged by its
 * requests' times to forward: when more than half took longer than `targetMs` (a queue), the bound is
 * cut by a fifth, down to half when even the fastest waited several times the target; when under a
 * tenth did and the bound is in use, it grows by √bound per 100 ms. Once a queue has been seen the
 * bound holds until the isolate is calm again (no queue and no refusal for `releaseMs`): lifting it as
 * soon as one window drained let the next window admit hundreds at once, which then waited seconds
 * for the event loop (measured: requests in progress swinging between 32 and 2,600 under a steady 2×
 * overload). While it holds, a request past the bound is refused as it enters (503 `overloaded`,
 * before authentication and parsing), which costs a small fraction of a forward, so the CPU goes to
 * the requests already admitted. Before any queue, and once the isolate has been calm, a burst is
 * admitted up to `maxBound`: an idle isolate never refuses one.
 */
export class RequestGate {
  #bound: number;
  #inProgress = 0;
  #shed = 0;
  #windowStart: number;
  #windowMin = Number.POSITIVE_INFINITY;
  #windowCount = 0;
  #windowLate = 0;
  #peakInWindow = 0;
  readonly #targetMs: number;
  readonly #intervalMs: number;
  readonly #releaseMs: number;
  #congested = false;
  #holding = false;
  /** When the isolate last showed a queue or refused a request. */
  #lastBusy = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly config: RequestGateConfig,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.#bound = clamp(config.initialBound, config.minBound, config.maxBound);
    this.#targetMs = config.targetMs ?? 50;
    this.#intervalMs = config.intervalMs ?? 50;
    this.#releaseMs = config.releaseMs ?? 1_000;
    this.#windowStart = now();
  }

  /** The current bound on requests in progress. */
  get bound(): number {
    return Math.floor(this.#bound);
  }

  /** True while the last window showed a queue in this isolate. */
  get congested(): boolean {
    return this.#congested;
  }

  /** True while the bound applies: a queue was seen and the isolate has not been calm since. */
  get holding(): boolean {
    return this.#holding;
  }

  /** Counters for tests and logs. */
  stats(): { inProgress: number; bound: number; shed: number } {
    return { inProgress: this.#inProgress, bound: this.bound, shed: this.#shed };
  }

  /**
   * True (then call `leave` once when answered) or false: refuse the request now. The bound applies
   * only from a queue until the isolate is calm again; otherwise a burst is admitted up to `maxBound`.
   */
  tryEnter(): boolean {
    if (this.#holding && this.#inProgress >= this.bound) this.#holdOrRelease();
    const limit = this.#holding ? this.bound : this.config.maxBound;
    if (this.#inProgress >= limit) {
      this.#shed++;
      return false;
    }
    this.#inProgress++;
    this.#peakInWindow = Math.max(this.#peakInWindow, this.#inProgress);
    return true;
  }

  leave(): void {
    this.#inProgress--;
  }

  /** A request reached its forward `ms` after it entered the isolate. */
  observe(ms: number): void {
    this.#windowMin = Math.min(this.#windowMin, ms);
    this.#windowCount++;
    if (ms > this.#targetMs) this.#windowLate++;
    const now = this.now();
    if (now - this.#windowStart >= this.#intervalMs && this.#windowCount >= minSamples)
      this.#closeWindow(now);
  }

  /** About to refuse: lift the bound if the isolate has been calm for `releaseMs`, else stay busy. */
  #holdOrRelease(): void {
    const now = this.now();
    if (now - this.#lastBusy >= this.#releaseMs) this.#holding = false;
    else this.#lastBusy = now;
  }

  #closeWindow(now: number): void {
    const { minBound, maxBound } = this.config;
    const lateShare = this.#windowLate / this.#windowCount;
    this.#congested = lateShare > 0.5;
    if (this.#congested) {
      // A fifth off a mild queue; up to half off one several times its target, so a flood admitted
      // before the first verdict is cut back within a few windows.
      const cut = clamp((2 * this.#targetMs) / this.#windowMin, 0.5, 0.8);
      this.#bound = clamp(this.#bound * cut, minBound, maxBound);
      this.#holding = true;
      this.#lastBusy = now;
    } else if (lateShare < 0.1 && this.#peakInWindow >= this.#bound / 2) {
      // √bound per 100 ms, whatever the window.
      const step = (Math.sqrt(this.#bound) * this.#intervalMs) / 100;
      this.#bound = clamp(this.#bound + step, minBound, maxBound);
    }
    this.#windowStart = now;
    this.#windowMin = Number.POSITIVE_INFINITY;
    this.#windowCount = 0;
    this.#windowLate = 0;
    this.#peakInWindow = this.#inProgress;
  }
}

/** A window's verdict needs this many requests (one slow key lookup is not a queue). */
const minSamples = 4;
