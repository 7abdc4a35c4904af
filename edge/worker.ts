import type { ExecutionContext, ScheduledController } from "@cloudflare/workers-types/latest";
import { createEdgeApp } from "./app.ts";
import type { EdgeBindings } from "./env.ts";
import { runScheduledDrift } from "./services/drift-trigger.ts";

const app = createEdgeApp();

/** Cloudflare Workers entry (workerd locally via `wrangler dev`). */
export default {
  fetch: app.fetch,
  /** wrangler.toml's cron: a signed call to the pool's drift job, kept alive with waitUntil. */
  scheduled(controller: ScheduledController, env: EdgeBindings, ctx: ExecutionContext): void {
    // A number of epoch ms in Workers; normalised in case a runtime hands over a Date.
    const scheduledTime = new Date(controller.scheduledTime).getTime();
    ctx.waitUntil(runScheduledDrift(env, controller.cron, scheduledTime));
  },
};
