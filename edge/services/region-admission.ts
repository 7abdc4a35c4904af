/**
 * Admission per region: each isolate's share of one regional pool's capacity, without a round trip to
 * a shared store on any forward.
 *
 * A region's capacity is its pool's: every pool worker caps its requests in flight (MAX_IN_FLIGHT) and
 * reports, on every answer, how loaded it is (`x-tiergate-pool-load: <in flight>/<cap>`), and it
 * answers 503 + Retry-After at once past the cap. Many isolates share that capacity. Each isolate
 * keeps, per region, a limit on its own forwards there, fed only by those signals, the way TCP senders
 * share a bottleneck link (additive increase, multiplicative decrease, which converges to fair shares
 * without the senders knowing of each other):
 * - the pool reports utilization `u` below `targetUtilization`, and this isolate uses at least half its
 *   share: the share grows by `growth` per round of answers (`growth/limit` per answer): the same
 *   step for a large share as for a small one, which is what makes the shares converge to equal;
 * - the pool reports `u` at or above the target: the share is scaled by `target/u`, by at least 10%
 *   and at most by `backoff`, at most once per `cutIntervalMs`, so every isolate cuts back together
 *   when the pool nears its cap, before the pool has to refuse anything (the 10% floor is what makes
 *   unequal shares converge quickly: each cut shrinks their difference by that much);
 * - the pool shed the forward (503): the share is cut by `backoff` and the region is paused for
 *   `pauseMs`: new forwards skip it (they go to another region whose circuit is closed, or, when there
 *   is none, are refused at the edge with 503 `overloaded` before any forward). After the pause the
 *   region gets the cut share, which grows again as answers show spare capacity.
 * The isolate's own limit (admission.ts) stays in front: it protects the isolate (descriptors, its
 * event loop); this one protects the region. Everything here is arithmetic on local state.
 */

import type { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import { parsePoolLoad } from "../../shared/pool-load.ts";
import { clamp } from "../lib/clamp.ts";
import { overloadedBy } from "./admission.ts";

/** Settings of {@link RegionAdmission}. */
export interface RegionAdmissionConfig {
  /** An isolate's share of a region before any signal. */
  initialLimit: number;
  minLimit: number;
  maxLimit: number;
  /** Pool utilization (0..1) above which every isolate cuts its share. */
  targetUtilization?: number;
  /** The factor a shed (503) applies, and the deepest cut a utilization report may apply. */
  backoff?: number;
  /** How long a region that shed is skipped (ms). */
  pauseMs?: number;
  /** Cuts for high utilization are applied at most this often (ms): one per round of answers. */
  cutIntervalMs?: number;
  /** Additive increase per round of answers (a share's worth). */
  growth?: number;
}

/** What a forward to a region saw: the pool's status (null: no answer) and its load header. */
interface RegionOutcome {
  status: number | null;
  load: string | null;
}

/** A forward admitted to one region; `done` exactly once (later calls are ignored). */
export interface RegionTicket {
  /** The pool's answer (its status and load header are read), or null when none came. */
  done(answer: Response | null): void;
}

/** What the pool client asks before each attempt at a region. */
export interface RegionGate {
  /** A ticket, or null: skip this region (its share is used up or it is paused). */
  tryEnter(region: string): RegionTicket | null;
}

/** The answering pool's reported utilization (in flight / cap), or undefined without a load header. */
export function utilizationOf(answer: Response): number | undefined {
  const load = parsePoolLoad(answer.headers.get(headers.poolLoad));
  return load ? load.inFlight / load.limit : undefined;
}

/** The 503 for a forward that every available region's share refused (no pool was called); one instance. */
const regionsAtCapacity = overloadedBy("regions", "Every region is at capacity; retry shortly.");

/** The refusal of a forward that every available region's share refused. */
export function regionsShed(): GatewayError {
  return regionsAtCapacity;
}

/** True for {@link regionsShed}'s error: the isolate's own limit was not what refused it. */
export function shedByRegions(error: unknown): boolean {
  return error === regionsAtCapacity;
}

/** One region's state in this isolate, for tests and logs. */
export interface RegionAdmissionStats {
  limit: number;
  inFlight: number;
  pausedUntil: number;
  shedHere: number;
}

interface RegionState {
  limit: number;
  inFlight: number;
  pausedUntil: number;
  lastCut: number;
  shedHere: number;
}

/** The isolate's per-region shares (see the module). */
export class RegionAdmission implements RegionGate {
  readonly #regions = new Map<string, RegionState>();
  readonly #target: number;
  readonly #backoff: number;
  readonly #pauseMs: number;
  readonly #cutIntervalMs: number;
  readonly #growth: number;

  constructor(
    private readonly config: RegionAdmissionConfig,
    private readonly now: () => number = () => Date.now(),
  ) {
    this.#target = config.targetUtilization ?? 0.8;
    this.#backoff = config.backoff ?? 0.5;
    this.#pauseMs = config.pauseMs ?? 250;
    this.#cutIntervalMs = config.cutIntervalMs ?? 100;
    this.#growth = config.growth ?? 4;
  }

  /** A ticket for a forward to `region`, or null when its share is used up or it is paused. */
  tryEnter(region: string): RegionTicket | null {
    const state = this.#state(region);
    if (state.pausedUntil > this.now() || state.inFlight >= Math.floor(state.limit)) {
      state.shedHere++;
      return null;
    }
    state.inFlight++;
    const inFlightAtStart = state.inFlight;
    let done = false;
    return {
      done: (answer) => {
        if (done) return;
        done = true;
        state.inFlight--;
        const outcome: RegionOutcome = answer
          ? { status: answer.status, load: answer.headers.get(headers.poolLoad) }
          : { status: null, load: null };
        this.#onOutcome(state, outcome, inFlightAtStart);
      },
    };
  }

  stats(region: string): RegionAdmissionStats {
    const { limit, inFlight, pausedUntil, shedHere } = this.#state(region);
    return { limit: Math.floor(limit), inFlight, pausedUntil, shedHere };
  }

  #state(region: string): RegionState {
    let state = this.#regions.get(region);
    if (!state) {
      const { initialLimit, minLimit, maxLimit } = this.config;
      state = {
        limit: clamp(initialLimit, minLimit, maxLimit),
        inFlight: 0,
        pausedUntil: 0,
        lastCut: Number.NEGATIVE_INFINITY,
        shedHere: 0,
      };
      this.#regions.set(region, state);
    }
    return state;
  }

  #onOutcome(state: RegionState, outcome: RegionOutcome, inFlightAtStart: number): void {
    const now = this.now();
    if (outcome.status === 503) {
      this.#cut(state, this.#backoff, now);
      state.pausedUntil = now + this.#pauseMs;
      return;
    }
    const load = parsePoolLoad(outcome.load);
    if (!load) return;
    const utilization = load.inFlight / load.limit;
    if (utilization >= this.#target) {
      if (now - state.lastCut >= this.#cutIntervalMs) {
        this.#cut(state, clamp(this.#target / utilization, this.#backoff, minCut), now);
      }
      return;
    }
    if (inFlightAtStart < state.limit / 2) return;
    state.limit = clamp(state.limit + this.#growth / state.limit, this.config.minLimit, this.config.maxLimit);
  }

  #cut(state: RegionState, factor: number, now: number): void {
    state.limit = clamp(state.limit * factor, this.config.minLimit, this.config.maxLimit);
    state.lastCut = now;
  }
}

/** The smallest cut a high-utilization report applies (a factor). */
const minCut = 0.9;
