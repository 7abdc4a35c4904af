import type { z } from "zod";
import type { FailureReason, PoolCall, PoolClient } from "./pool-client.ts";

export type JsonForwardResult =
  | { ok: true; status: number; body: string; region: string }
  | { ok: false; reason: FailureReason };

/**
 * Forwards a non-streaming call and checks a 2xx answer against `schema` (a malformed answer is a
 * failure, like a 5xx). A 4xx from the pool is the client's error and is passed on unchanged.
 */
export async function forwardJson(
  pool: PoolClient,
  call: PoolCall,
  schema: z.ZodType,
): Promise<JsonForwardResult> {
  const result = await pool.forward(call);
  if (!result.ok) return { ok: false, reason: result.reason };
  let body: string;
  try {
    body = await result.response.text();
  } catch {
    result.settle(true);
    return { ok: false, reason: result.deadlineSignal.aborted ? "deadline_exceeded" : "upstream_error" };
  }
  if (result.response.ok && !isValid(schema, body)) {
    result.settle(true);
    return { ok: false, reason: "malformed_response" };
  }
  result.settle(false);
  return { ok: true, status: result.response.status, body, region: result.region };
}

function isValid(schema: z.ZodType, body: string): boolean {
  try {
    return schema.safeParse(JSON.parse(body)).success;
  } catch {
    return false;
  }
}
