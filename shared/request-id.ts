import { z } from "zod";

/**
 * The one request id validator of the edge and the pool: 1–128 characters of letters, digits and
 * `._:-`. A client's `x-request-id` / `x-client-request-id` that fails it is ignored.
 */
export const requestIdPattern = /^[A-Za-z0-9._:-]{1,128}$/;

/** A request id as a zod schema (feedback bodies, signed headers). */
export const requestIdSchema = z.string().regex(requestIdPattern, "expected a request id (x-request-id)");

/** Whether `value` is a well-formed request id. */
export function isRequestId(value: unknown): value is string {
  return typeof value === "string" && requestIdPattern.test(value);
}

/** A new server request id: `req_` and 32 hex digits. */
export function newRequestId(): string {
  return `req_${crypto.randomUUID().replaceAll("-", "")}`;
}
