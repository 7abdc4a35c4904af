import type { EdgeBindings } from "../env.ts";
import { servicesFor } from "./edge-services.ts";

/**
 * What the edge's cron trigger does: a signed `POST /internal/v1/drift/run` to the best region, the
 * window ending at the scheduled time. Never throws (a scheduled event has nobody to report to): the
 * outcome is logged and returned, so tests can check it.
 */
export async function runScheduledDrift(
  env: EdgeBindings,
  cron: string,
  scheduledTime: number,
): Promise<{ ok: boolean; status: number; body: string }> {
  const built = servicesFor(env);
  if (!built.ok) {
    console.error(`drift cron ${cron}: bad edge configuration: ${built.problems.join("; ")}`);
    return { ok: false, status: 0, body: "" };
  }
  const { pool, config } = built.services;
  const trigger = `cron:${cron}@${scheduledTime}`;
  try {
    const response = await pool.call({
      method: "POST",
      path: "/internal/v1/drift/run",
      body: JSON.stringify({ now: scheduledTime, trigger }),
      requestId: `cron_${scheduledTime}`,
      deadline: Date.now() + config.POOL_TIMEOUT_MS,
    });
    const body = await response.text();
    console.log(`drift cron ${cron}: pool answered ${response.status} ${body.slice(0, 200)}`);
    return { ok: response.ok, status: response.status, body };
  } catch (error: unknown) {
    console.error(`drift cron ${cron}: pool unreachable:`, error instanceof Error ? error.message : error);
    return { ok: false, status: 0, body: "" };
  }
}
