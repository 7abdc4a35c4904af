import { GatewayError } from "../../shared/errors.ts";
import { withRetry } from "../../shared/retry.ts";
import { FieldRefusal } from "../providers/native/field-rules.ts";
import { AttemptTimeout, ProviderError, toProviderError } from "../providers/openai-compatible/errors.ts";
import type { EndpointSpec } from "../providers/types.ts";
import type { TierRoute } from "../registry/types.ts";
import type { Balancer } from "./balancer.ts";

export interface RetryPolicy {
  /** Attempts per tier, including the first. */
  attempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
}

/** One failed attempt, for the fallback reason. */
export interface AttemptFailure {
  endpoint: string;
  failure: string;
  /** Set when the endpoint refused a field of the request (no failure of the endpoint). */
  refusal?: { provider: string; field: string };
}

export interface TierAttempt<T> {
  /** Runs one call on an endpoint. Resolve when the call has proved itself (for streams: the first token). */
  call(endpoint: EndpointSpec, signal: AbortSignal): Promise<T>;
  /**
   * For streams: the attempt's result is still in use after `call` resolved; the balancer's bookkeeping
   * ends when `settled` of the result resolves. Omitted for plain calls.
   */
  settled?(result: T): Promise<"ok" | "failed" | "neutral">;
}

/** Thrown when a tier has no endpoint left to try; carries the failures seen. */
export class TierExhausted extends Error {
  constructor(
    readonly tier: string,
    readonly failures: AttemptFailure[],
  ) {
    super(`tier ${tier} exhausted`);
  }
}

const retryableOrMisconfigured = (error: unknown) =>
  error instanceof ProviderError && (error.retryable || error.failure === "misconfigured");

/** One call of {@link runOnTier}: the attempt, the tier to run it on, and its limits. */
export interface TierRun<T> {
  tier: TierRoute;
  balancer: Balancer;
  retry: RetryPolicy;
  /** Epoch ms after which no attempt starts; each attempt's timeout is capped by it. */
  deadline: number;
  /** The client's signal: aborting it aborts the attempt in flight and ends the retries. */
  signal: AbortSignal;
  attempt: TierAttempt<T>;
  /** Told about each failed attempt that is retried. */
  onRetry?: (failure: AttemptFailure) => void;
}

/** Per call of {@link runOnTier}: the endpoints tried so far and the failures seen. */
interface TierState {
  tried: Set<string>;
  /** Endpoints that refused a field: never picked again for this request (the balancer re-picks tried ones). */
  refused: Set<string>;
  failures: AttemptFailure[];
}

/** The result of a successful attempt, with who served it. */
export interface TierSuccess<T> {
  result: T;
  endpoint: EndpointSpec;
  failures: AttemptFailure[];
  startedAt: number;
}

/** One attempt on one endpoint, under the per-attempt timeout; a failure is typed and recorded. */
async function attemptOn<T>(
  run: TierRun<T>,
  endpoint: EndpointSpec,
  state: TierState,
  remaining: number,
): Promise<TierSuccess<T>> {
  const { tier, balancer, signal: clientSignal, attempt } = run;
  const controller = new AbortController();
  const onClientAbort = () => controller.abort(clientSignal.reason);
  clientSignal.addEventListener("abort", onClientAbort, { once: true });
  const timer = setTimeout(
    () => controller.abort(new AttemptTimeout(`${tier.timeoutMs} ms`)),
    Math.min(tier.timeoutMs, remaining),
  );
  const started = Date.now();
  balancer.begin(endpoint);
  try {
    const result = await attempt.call(endpoint, controller.signal);
    clearTimeout(timer);
    if (attempt.settled) {
      void attempt.settled(result).then((outcome) => {
        clientSignal.removeEventListener("abort", onClientAbort);
        balancer.end(endpoint, outcome, Date.now() - started);
      });
    } else {
      clientSignal.removeEventListener("abort", onClientAbort);
      balancer.end(endpoint, "ok", Date.now() - started);
    }
    return { result, endpoint, failures: state.failures, startedAt: started };
  } catch (error: unknown) {
    clearTimeout(timer);
    clientSignal.removeEventListener("abort", onClientAbort);
    const typed = toProviderError(error, endpoint.id, controller.signal);
    const counts = typed.failure !== "aborted" && typed.failure !== "rejected";
    balancer.end(endpoint, counts ? "failed" : "neutral", Date.now() - started);
    state.failures.push(
      typed instanceof FieldRefusal
        ? {
            endpoint: endpoint.id,
            failure: `refuses=${typed.field}`,
            refusal: { provider: typed.provider, field: typed.field },
          }
        : { endpoint: endpoint.id, failure: typed.failure },
    );
    throw typed;
  }
}

/**
 * Picks endpoints until one answers or fails for a reason other than a field refusal: an endpoint that
 * refuses a field of the request is no failure of the endpoint and costs no retry or backoff.
 */
async function attemptPicked<T>(run: TierRun<T>, state: TierState): Promise<TierSuccess<T>> {
  for (;;) {
    const remaining = run.deadline - Date.now();
    if (remaining <= 0) throw new ProviderError("timeout", `tier ${run.tier.name}: deadline passed`);
    const open = run.tier.endpoints.filter((e) => !state.refused.has(e.id));
    const endpoint = run.balancer.pick(open, state.tried);
    if (!endpoint) throw new TierExhausted(run.tier.name, state.failures);
    state.tried.add(endpoint.id);
    try {
      return await attemptOn(run, endpoint, state, remaining);
    } catch (error: unknown) {
      if (!(error instanceof FieldRefusal)) throw error;
      state.refused.add(endpoint.id);
    }
  }
}

/**
 * Runs `attempt` on the tier's endpoints: power-of-two-choices picks each one, a per-attempt timeout
 * (the tier's, capped by the deadline) aborts slow calls, and retryable failures move on to another
 * endpoint with jittered backoff (`withRetry`). An endpoint refusing a field moves on at once. A request
 * the upstream rejects (4xx) is the caller's and ends routing with a 400.
 */
export async function runOnTier<T>(run: TierRun<T>): Promise<TierSuccess<T>> {
  const { tier, retry, signal: clientSignal, onRetry } = run;
  const state: TierState = { tried: new Set<string>(), refused: new Set<string>(), failures: [] };
  const { failures } = state;
  try {
    return await withRetry(() => attemptPicked(run, state), {
      attempts: retry.attempts,
      baseDelayMs: retry.baseDelayMs,
      maxDelayMs: retry.maxDelayMs,
      shouldRetry: retryableOrMisconfigured,
      onRetry: () => onRetry?.(failures[failures.length - 1] as AttemptFailure),
      signal: clientSignal,
    });
  } catch (error: unknown) {
    if (error instanceof ProviderError && error.failure === "rejected") {
      throw new GatewayError("BAD_REQUEST", `The model rejected the request (${error.message}).`, {
        cause: error,
      });
    }
    if (error instanceof ProviderError && error.failure === "aborted") throw error;
    throw error instanceof TierExhausted ? error : new TierExhausted(tier.name, failures);
  }
}
