import type { EdgeBindings } from "../env.ts";
import { bootLogger } from "../lib/boot-logger.ts";
import { servicesFor } from "./edge-services.ts";

/**
 * What the edge's cron trigger does: `POST /internal/v1/drift/run` to the best region, signed with the
 * admin credential (POOL_ADMIN_SECRET; never the traffic secret), the window ending at the scheduled time. Never throws (a scheduled event has nobody to report to): the
 * outcome is logged and returned, so tests can check it.
 */
export async function runScheduledDrift(
  env: EdgeBindings,
  cron: string,
  scheduledTime: number,
): Promise<{ ok: boolean; status: number; body: string }> {
  const built = servicesFor(env);
  if (!built.ok) {
    bootLogger.error("drift cron: bad edge configuration", { cron, problems: built.problems });
    return { ok: false, status: 0, body: "" };
  }
  const { pool, config } = built.services;
  const log = built.services.logger.child({ cron });
  if (!config.POOL_ADMIN_SECRET) {
    log.error("drift cron: POOL_ADMIN_SECRET is not set; the drift run needs the admin credential");
    return { ok: false, status: 0, body: "" };
  }
  const trigger = `cron:${cron}@${scheduledTime}`;
  try {
    const response = await pool.call({
      method: "POST",
      path: "/internal/v1/drift/run",
      body: JSON.stringify({ now: scheduledTime, trigger }),
      requestId: `cron_${scheduledTime}`,
      deadline: Date.now() + config.POOL_TIMEOUT_MS,
      admin: true,
    });
    const body = await response.text();
    log.info("drift cron: pool answered", { status: response.status, body: body.slice(0, 200) });
    return { ok: response.ok, status: response.status, body };
  } catch (error: unknown) {
    log.error("drift cron: pool unreachable", { error });
    return { ok: false, status: 0, body: "" };
  }
}
