/** The services tiergate depends on below HTTP. */
export type Dependency = "redis" | "postgres" | "clickhouse" | "kafka" | "model" | "pool";

/**
 * An I/O failure of a dependency. `retryable` says whether trying the same call again can help
 * (connection refused, timeout, 429, 5xx) or cannot (bad request, auth, schema errors).
 */
export class DependencyError extends Error {
  override readonly name = "DependencyError";
  constructor(
    readonly dependency: Dependency,
    readonly retryable: boolean,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`${dependency}: ${message}`, options);
  }
}

export function isRetryable(error: unknown): boolean {
  return error instanceof DependencyError && error.retryable;
}
