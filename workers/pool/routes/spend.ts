import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { jsonContent } from "../../../shared/openapi.ts";
import { budgetAlertRequestSchema } from "../../../shared/schemas/spend.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedSecurity, tags } from "./shared.ts";

const alertRoute = createRoute({
  method: "post",
  path: "/internal/v1/spend/alerts",
  summary: "A soft budget passed its limit: record its alert once per period and call its webhook",
  tags: tags.internal,
  security: signedSecurity,
  middleware: jsonBody,
  request: { body: { required: true, content: jsonContent(budgetAlertRequestSchema) } },
  responses: {
    200: {
      description:
        "Whether this call recorded the alert (false: already recorded this period, or no such budget)",
      content: jsonContent(
        z.object({ recorded: z.boolean(), webhook_status: z.number().int().nullable().optional() }),
      ),
    },
    ...signedBodyErrors,
  },
});

/** POST /internal/v1/spend/alerts: the edge reports a soft budget's counter past its limit (signed). */
export function registerSpendRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(alertRoute, async (c) => {
    const outcome = await c.var.services.spend.alert(c.req.valid("json"));
    return c.json(
      outcome.recorded ? { recorded: true, webhook_status: outcome.webhookStatus } : { recorded: false },
      200,
    );
  });
}
