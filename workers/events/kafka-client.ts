import { GenericError, NetworkError, TimeoutError } from "@platformatic/kafka";
import { DependencyError } from "../../shared/dependency-error.ts";

// @platformatic/kafka targets Node >= 22 and calls Promise.withResolvers (ES2024). Bun has it; Node 20
// (which runs the test suite) does not. This fills the gap with the standard behaviour, only when missing.
if (typeof Promise.withResolvers !== "function") {
  Object.defineProperty(Promise, "withResolvers", {
    configurable: true,
    writable: true,
    value<T>() {
      let resolve!: (value: T | PromiseLike<T>) => void;
      let reject!: (reason?: unknown) => void;
      const promise = new Promise<T>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      return { promise, resolve, reject };
    },
  });
}

/** Compression codecs that work under both Bun and Node 20 (zstd needs Node >= 22.15's zlib). */
export type EventCompression = "snappy" | "lz4" | "gzip" | "none";

function describe(error: unknown): string {
  if (error instanceof AggregateError && error.errors.length > 0) {
    return `${error.message} (${error.errors.map((e: unknown) => (e instanceof Error ? e.message : String(e))).join("; ")})`;
  }
  return error instanceof Error ? error.message : String(error);
}

/** Whether a Kafka client error may go away on its own (network, timeout, leader moves, broker busy). */
function retryableKafkaError(error: unknown): boolean {
  if (error instanceof NetworkError || error instanceof TimeoutError) return true;
  if (error instanceof GenericError) {
    const flagged = (error as GenericError & { canRetry?: boolean }).canRetry;
    if (typeof flagged === "boolean") return flagged;
  }
  if (error instanceof AggregateError) return error.errors.some(retryableKafkaError);
  return (
    error instanceof Error &&
    /ECONNREFUSED|ECONNRESET|EPIPE|timed? ?out|not.*leader|unavailable/i.test(error.message)
  );
}

/** Wraps any Kafka client failure in DependencyError("kafka", …), keeping the cause. */
export function toKafkaError(action: string, error: unknown): DependencyError {
  if (error instanceof DependencyError) return error;
  return new DependencyError("kafka", retryableKafkaError(error), `${action}: ${describe(error)}`, {
    cause: error,
  });
}
