import { GatewayError } from "../../shared/errors.ts";
import { withRetry } from "../../shared/retry.ts";
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

/**
 * Runs `attempt` on the tier's endpoints: power-of-two-choices picks each one, a per-attempt timeout
 * (the tier's, capped by the deadline) aborts slow calls, and retryable failures move on to another
 * endpoint with jittered backoff (`withRetry`). A request the upstream rejects (4xx) is the caller's
 * and ends routing with a 400.
 */
export async function runOnTier<T>(
  run: TierRun<T>,
): Promise<{ result: T; endpoint: EndpointSpec; failures: AttemptFailure[]; startedAt: number }> {
  const { tier, balancer, retry, deadline, signal: clientSignal, attempt, onRetry } = run;
  const tried = new Set<string>();
  const failures: AttemptFailure[] = [];
  try {
    return await withRetry(
      async () => {
        const remaining = deadline - Date.now();
        if (remaining <= 0) throw new ProviderError("timeout", `tier ${tier.name}: deadline passed`);
        const endpoint = balancer.pick(tier.endpoints, tried);
        if (!endpoint) throw new TierExhausted(tier.name, failures);
        tried.add(endpoint.id);
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
          return { result, endpoint, failures, startedAt: started };
        } catch (error: unknown) {
          clearTimeout(timer);
          clientSignal.removeEventListener("abort", onClientAbort);
          const typed = toProviderError(error, endpoint.id, controller.signal);
          const counts = typed.failure !== "aborted" && typed.failure !== "rejected";
          balancer.end(endpoint, counts ? "failed" : "neutral", Date.now() - started);
          failures.push({ endpoint: endpoint.id, failure: typed.failure });
          throw typed;
        }
      },
      {
        attempts: retry.attempts,
        baseDelayMs: retry.baseDelayMs,
        maxDelayMs: retry.maxDelayMs,
        shouldRetry: retryableOrMisconfigured,
        onRetry: () => onRetry?.(failures[failures.length - 1] as AttemptFailure),
        signal: clientSignal,
      },
    );
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
