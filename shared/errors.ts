/**
 * Every error the gateway answers with. Each code maps to one HTTP status and one OpenAI error `type`,
 * so clients built for OpenAI's API handle them unchanged.
 */
export const errorCodes = {
  BAD_REQUEST: { status: 400, type: "invalid_request_error" },
  INVALID_JSON: { status: 400, type: "invalid_request_error" },
  CONTENT_BLOCKED: { status: 400, type: "invalid_request_error" },
  CONTRACT_VIOLATION: { status: 400, type: "invalid_request_error" },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, type: "invalid_request_error" },
  PAYLOAD_TOO_LARGE: { status: 413, type: "invalid_request_error" },
  UNAUTHORIZED: { status: 401, type: "authentication_error" },
  INVALID_API_KEY: { status: 401, type: "authentication_error" },
  KEY_REVOKED: { status: 403, type: "permission_error" },
  KEY_EXPIRED: { status: 401, type: "authentication_error" },
  MODEL_FORBIDDEN: { status: 403, type: "permission_error" },
  ADMIN_REQUIRED: { status: 403, type: "permission_error" },
  INVALID_SIGNATURE: { status: 401, type: "authentication_error" },
  NOT_FOUND: { status: 404, type: "invalid_request_error" },
  MODEL_NOT_FOUND: { status: 404, type: "invalid_request_error" },
  COLLECTION_NOT_FOUND: { status: 404, type: "invalid_request_error" },
  METHOD_NOT_ALLOWED: { status: 405, type: "invalid_request_error" },
  RATE_LIMITED: { status: 429, type: "rate_limit_error" },
  BUDGET_EXCEEDED: { status: 429, type: "insufficient_quota" },
  OVERLOADED: { status: 503, type: "server_error" },
  UPSTREAM_UNAVAILABLE: { status: 503, type: "server_error" },
  UPSTREAM_TIMEOUT: { status: 504, type: "server_error" },
  BAD_ENVIRONMENT: { status: 500, type: "server_error" },
  INTERNAL: { status: 500, type: "server_error" },
} as const satisfies Record<string, { status: number; type: string }>;

export type ErrorCode = keyof typeof errorCodes;
export type ErrorStatus = (typeof errorCodes)[ErrorCode]["status"];

/** The one error class handlers throw; `onError` turns it into the OpenAI error shape. */
export class GatewayError extends Error {
  override readonly name = "GatewayError";
  readonly status: ErrorStatus;
  readonly type: string;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly options: { param?: string | null; headers?: Record<string, string>; cause?: unknown } = {},
  ) {
    super(message, { cause: options.cause });
    this.status = errorCodes[code].status;
    this.type = errorCodes[code].type;
  }
}

/** OpenAI's error body, plus the request id so a client can quote it to support. */
export interface ErrorBody {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}

export function errorBody(error: GatewayError, requestId: string): ErrorBody {
  return {
    error: {
      message: error.message,
      type: error.type,
      code: error.code.toLowerCase(),
      param: error.options.param ?? null,
      request_id: requestId,
    },
  };
}
