import { APIConnectionError, APIConnectionTimeoutError, APIError, APIUserAbortError } from "openai";
import { DependencyError } from "../../../shared/dependency-error.ts";

/**
 * Why an upstream call failed. `connection`, `timeout`, `rate_limited`, `server` and `stream_cut` are
 * retryable; `misconfigured` (401/403/404: our key or model name is wrong) moves on to another endpoint
 * without retrying this one; `rejected` (400/413/422) is the caller's request and goes back to them.
 */
export type ProviderFailure =
  | "connection"
  | "timeout"
  | "rate_limited"
  | "server"
  | "stream_cut"
  | "misconfigured"
  | "rejected"
  | "aborted";

/** A failed model call, typed for the router's retry and fallback decisions. */
export class ProviderError extends DependencyError {
  constructor(
    readonly failure: ProviderFailure,
    message: string,
    readonly status?: number,
    options?: { cause?: unknown },
  ) {
    super(
      "model",
      ["connection", "timeout", "rate_limited", "server", "stream_cut"].includes(failure),
      message,
      options,
    );
  }
}

/** The failure an HTTP status means, for every provider: 408 timeout, 429 rate limit, 5xx server, auth/404 misconfigured. */
export function failureOfStatus(status: number): ProviderFailure {
  if (status === 408) return "timeout";
  if (status === 429) return "rate_limited";
  if (status >= 500) return "server";
  if (status === 401 || status === 403 || status === 404) return "misconfigured";
  return "rejected";
}

/** The abort reason the router uses when an attempt runs out of time. */
export class AttemptTimeout extends Error {
  override readonly name = "AttemptTimeout";
}

/** Maps anything the SDK or fetch throws to a ProviderError; a signal aborted by `AttemptTimeout` is a timeout. */
export function toProviderError(error: unknown, where: string, signal?: AbortSignal): ProviderError {
  if (error instanceof ProviderError) return error;
  const timedOut = signal?.aborted === true && signal.reason instanceof AttemptTimeout;
  if (timedOut || error instanceof APIConnectionTimeoutError) {
    return new ProviderError("timeout", `${where}: timed out`, undefined, { cause: error });
  }
  if (error instanceof APIUserAbortError) {
    return new ProviderError("aborted", `${where}: aborted`, undefined, { cause: error });
  }
  if (error instanceof APIConnectionError) {
    return new ProviderError("connection", `${where}: connection failed`, undefined, { cause: error });
  }
  if (error instanceof APIError && typeof error.status === "number") {
    return new ProviderError(failureOfStatus(error.status), `${where}: HTTP ${error.status}`, error.status, {
      cause: error,
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  // A body cut mid-stream surfaces as a plain error from the stream reader (terminated, socket closed).
  return new ProviderError("stream_cut", `${where}: ${message}`, undefined, { cause: error });
}
