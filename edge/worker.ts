import type { ExecutionContext, ScheduledController } from "@cloudflare/workers-types/latest";
import { createEdgeApp } from "./app.ts";
import type { EdgeBindings } from "./env.ts";

const app = createEdgeApp();

/** Cloudflare Workers entry (workerd locally via `wrangler dev`). */
export default {
  fetch: app.fetch,
  scheduled(controller: ScheduledController, _env: EdgeBindings, ctx: ExecutionContext): void {
    // The drift job (a later issue) is fired from here; until then the trigger is only logged.
    ctx.waitUntil(
      Promise.resolve(console.log(`cron ${controller.cron} fired at ${controller.scheduledTime}`)),
    );
  },
};
