import type { Context } from "hono";
import type { HonoEnv } from "../types.ts";

/**
 * Runs work after the response: `waitUntil` on Workers; elsewhere (Deno) the promise simply runs on.
 * Failures are logged, never thrown: background work must not change an answer already sent.
 */
export function inBackground(c: Context<HonoEnv>, label: string, work: Promise<unknown>): void {
  const guarded = work.catch((error: unknown) =>
    c.get("log").warn("background work failed", { label, error }),
  );
  try {
    c.executionCtx.waitUntil(guarded);
  } catch {
    // No ExecutionContext outside Workers.
  }
}
