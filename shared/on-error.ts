import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { isRetryable } from "./dependency-error.ts";
import { type ErrorCode, errorBody, GatewayError } from "./errors.ts";
import { headers } from "./headers.ts";
import { createLogger, type Logger } from "./logger.ts";

/** Hono's own refusals (body limit, a route's media types) keep their meaning. */
const httpExceptionCodes: Partial<Record<number, ErrorCode>> = {
  413: "PAYLOAD_TOO_LARGE",
  415: "UNSUPPORTED_MEDIA_TYPE",
};

/** Maps anything thrown to the one error class. Unknown errors become a 500 that hides their details. */
export function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof HTTPException) {
    const code = httpExceptionCodes[error.status] ?? (error.status < 500 ? "BAD_REQUEST" : "INTERNAL");
    return new GatewayError(code, error.message || "bad request");
  }
  if (isRetryable(error)) {
    return new GatewayError("UPSTREAM_UNAVAILABLE", "A dependency is unavailable; try again shortly.", {
      headers: { "retry-after": "1" },
      cause: error,
    });
  }
  return new GatewayError("INTERNAL", "Internal error.", { cause: error });
}

/**
 * The one `onError` of an app: every failure leaves in OpenAI's error shape with the request id. A 5xx
 * other than a shed request (503 `overloaded`) is logged through the request's logger (`c.var.log`), or, for a request that failed before one was
 * bound, through a logger of `service` with the request id.
 */
export function createErrorHandler<E extends { Variables: { requestId: string; log: Logger } }>(
  service: string,
) {
  const fallback = createLogger({ bindings: { service } });
  return (error: unknown, c: Context<E>): Response => {
    const gatewayError = toGatewayError(error);
    const requestId: string = c.var.requestId ?? "unknown";
    // A shed request (OVERLOADED) is load shedding, not a failure: logging each would spend CPU
    // exactly when there is none to spare. The admission limits count them.
    if (gatewayError.status >= 500 && gatewayError.code !== "OVERLOADED") {
      const log: Logger = c.var.log ?? fallback.child({ request_id: requestId });
      log.error("request failed", {
        code: gatewayError.code,
        error: gatewayError.cause ?? gatewayError.message,
      });
    }
    return c.json(errorBody(gatewayError, requestId), gatewayError.status, {
      ...gatewayError.options.headers,
      [headers.requestId]: requestId,
    });
  };
}
