import { isRetryable } from "./dependency-error.ts";

export interface RetryOptions {
  /** Total attempts, including the first. `Infinity` retries until `signal` aborts. */
  attempts: number;
  /** Base of the exponential backoff; each wait is a random value in [0, base * 2^n] (full jitter). */
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Decides whether an error is worth another attempt. Defaults to DependencyError.retryable. */
  shouldRetry?: (error: unknown) => boolean;
  /** Called before each retry, e.g. to count retries in metrics or tests. */
  onRetry?: (error: unknown, attempt: number) => void;
  /** Stops retrying: a wait in progress ends at once and the last error is thrown. */
  signal?: AbortSignal;
}

/** Waits `ms`, or less if `signal` aborts first. */
function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

/**
 * Runs `fn`, retrying retryable failures with jittered exponential backoff. With `attempts: Infinity`
 * it retries until `signal` aborts, which is how long-running loops (reconnects, spool drains) use it.
 */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error: unknown) {
      if (attempt >= options.attempts || !shouldRetry(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      const cap = Math.min(options.maxDelayMs ?? 2_000, options.baseDelayMs * 2 ** Math.min(attempt - 1, 30));
      await pause(Math.random() * cap, options.signal);
      if (options.signal?.aborted) throw error;
    }
  }
}
