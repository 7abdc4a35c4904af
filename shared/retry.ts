import { isRetryable } from "./dependency-error.ts";

export interface RetryOptions {
  /** Total attempts, including the first. */
  attempts: number;
  /** Base of the exponential backoff; each wait is a random value in [0, base * 2^n] (full jitter). */
  baseDelayMs: number;
  maxDelayMs?: number;
  /** Decides whether an error is worth another attempt. Defaults to DependencyError.retryable. */
  shouldRetry?: (error: unknown) => boolean;
  /** Called before each retry, e.g. to count retries in metrics or tests. */
  onRetry?: (error: unknown, attempt: number) => void;
  signal?: AbortSignal;
}

/** Runs `fn`, retrying retryable failures with jittered exponential backoff. */
export async function withRetry<T>(fn: (attempt: number) => Promise<T>, options: RetryOptions): Promise<T> {
  const shouldRetry = options.shouldRetry ?? isRetryable;
  for (let attempt = 1; ; attempt++) {
    try {
      return await fn(attempt);
    } catch (error: unknown) {
      if (attempt >= options.attempts || !shouldRetry(error) || options.signal?.aborted) throw error;
      options.onRetry?.(error, attempt);
      const cap = Math.min(options.maxDelayMs ?? 2_000, options.baseDelayMs * 2 ** (attempt - 1));
      await new Promise((resolve) => setTimeout(resolve, Math.random() * cap));
    }
  }
}
