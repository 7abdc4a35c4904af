import { ClickHouseError } from "@clickhouse/client-web";
import { DependencyError } from "../../shared/dependency-error.ts";

/** A non-2xx HTTP answer that did not come from ClickHouse itself (no exception header), e.g. a proxy's 502. */
export class HttpStatusError extends Error {
  override readonly name = "HttpStatusError";
  constructor(
    readonly status: number,
    body: string,
  ) {
    super(`HTTP ${status}: ${body.slice(0, 300)}`);
  }
}

/**
 * ClickHouse error types where the same request can succeed later: overload, limits, timeouts,
 * network trouble inside the cluster, a server shutting down.
 */
const retryableTypes = new Set([
  "TIMEOUT_EXCEEDED",
  "SOCKET_TIMEOUT",
  "NETWORK_ERROR",
  "MEMORY_LIMIT_EXCEEDED",
  "QUERY_WAS_CANCELLED",
  "ABORTED",
  "UNKNOWN_STATUS_OF_INSERT",
  "TABLE_IS_READ_ONLY",
  "KEEPER_EXCEPTION",
  "ALL_CONNECTION_TRIES_FAILED",
  "SERVER_OVERLOADED",
  "CANNOT_SCHEDULE_TASK",
  "NO_FREE_CONNECTION",
]);
/** Covers TOO_MANY_SIMULTANEOUS_QUERIES, TOO_MANY_PARTS, TOO_MANY_REQUESTS and the like. */
const retryableTypePattern = /^TOO_MANY_|TIMEOUT/;

function retryableClickHouseError(error: ClickHouseError): boolean {
  const type = error.type ?? "";
  return retryableTypes.has(type) || retryableTypePattern.test(type);
}

/**
 * Maps any failure of a ClickHouse call to a DependencyError. Errors ClickHouse reported are retryable
 * only for the types above (syntax, type, unknown-table errors are not). Errors without a ClickHouse
 * verdict (connection refused, reset, request timeout, 5xx/429 from something in between) are retryable.
 */
export function toDependencyError(error: unknown, action: string): DependencyError {
  if (error instanceof DependencyError) return error;
  if (error instanceof ClickHouseError) {
    return new DependencyError(
      "clickhouse",
      retryableClickHouseError(error),
      `${action}: [${error.type ?? error.code}] ${error.message.trim()}`,
      {
        cause: error,
      },
    );
  }
  if (error instanceof HttpStatusError) {
    const retryable = error.status >= 500 || error.status === 429 || error.status === 408;
    return new DependencyError("clickhouse", retryable, `${action}: ${error.message}`, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new DependencyError("clickhouse", true, `${action}: ${message}`, { cause: error });
}
