import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { isRetryable } from "../shared/dependency-error.ts";
import { type ErrorCode, GatewayError, errorBody } from "../shared/errors.ts";
import type { HonoEnv } from "./types.ts";

function toGatewayError(error: unknown): GatewayError {
  if (error instanceof GatewayError) return error;
  if (error instanceof HTTPException) {
    const code: ErrorCode = error.status === 413 ? "PAYLOAD_TOO_LARGE" : error.status < 500 ? "BAD_REQUEST" : "INTERNAL";
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

/** The edge's one error handler: every failure leaves in OpenAI's error shape with the request id. */
export function onEdgeError(error: unknown, c: Context<HonoEnv>): Response {
  const gatewayError = toGatewayError(error);
  const requestId = c.var.requestId ?? "unknown";
  if (gatewayError.status >= 500) {
    console.error(`[${requestId}] ${gatewayError.code}`, gatewayError.cause ?? gatewayError.message);
  }
  return c.json(errorBody(gatewayError, requestId), gatewayError.status, {
    ...gatewayError.options.headers,
    "x-request-id": requestId,
  });
}
