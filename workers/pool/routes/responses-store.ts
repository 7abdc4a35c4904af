import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { GatewayError } from "../../../shared/errors.ts";
import { storeUnavailableStatus } from "../../../shared/formats/responses/passthrough.ts";
import { headers } from "../../../shared/headers.ts";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import { withStore } from "../../responses/conversation.ts";
import type { PoolHonoEnv } from "../types.ts";
import { jsonBody, signedBodyErrors, signedErrors, signedSecurity, tags } from "./shared.ts";

const idParam = z.object({ id: z.string().min(1).max(256) });
const storeDown = { [storeUnavailableStatus]: { description: "The response store (Postgres) is down" } };

const storedBody = z.object({
  response: z.looseObject({
    id: z.string().min(1).max(256),
    object: z.literal("response"),
    model: z.string(),
  }),
  input_items: z.array(z.unknown()).max(10_000),
  previous_response_id: z.string().max(256).nullish(),
});

const saveRoute = createRoute({
  method: "post",
  path: "/internal/v1/responses/stored",
  summary: "Stores a translated Responses answer of a `store: true` request (the edge sends it)",
  tags: tags.internal,
  security: signedSecurity,
  middleware: [jsonBody],
  request: { body: { required: true, content: jsonContent(storedBody) } },
  responses: plainResponses({ 204: { description: "Stored" }, ...storeDown, ...signedBodyErrors }),
});

const getRoute = createRoute({
  method: "get",
  path: "/internal/v1/responses/{id}",
  summary: "A stored response of the signed tenant",
  tags: tags.internal,
  security: signedSecurity,
  request: { params: idParam },
  responses: plainResponses({
    200: { description: "The response object", content: jsonContent(z.looseObject({ id: z.string() })) },
    404: { description: "No such response for this tenant" },
    ...storeDown,
    ...signedErrors,
  }),
});

const inputItemsRoute = createRoute({
  method: "get",
  path: "/internal/v1/responses/{id}/input_items",
  summary: "The input items of a stored response of the signed tenant (its whole conversation)",
  tags: tags.internal,
  security: signedSecurity,
  request: { params: idParam },
  responses: plainResponses({
    200: {
      description: "A list of items",
      content: jsonContent(z.looseObject({ object: z.literal("list") })),
    },
    404: { description: "No such response for this tenant" },
    ...storeDown,
    ...signedErrors,
  }),
});

const deleteRoute = createRoute({
  method: "post",
  path: "/internal/v1/responses/{id}/delete",
  summary: "Deletes a stored response of the signed tenant",
  tags: tags.internal,
  security: signedSecurity,
  request: { params: idParam },
  responses: plainResponses({
    200: { description: "Deleted", content: jsonContent(z.looseObject({ deleted: z.boolean() })) },
    404: { description: "No such response for this tenant" },
    ...storeDown,
    ...signedErrors,
  }),
});

function tenantOf(c: Context<PoolHonoEnv>): string {
  const tenant = c.req.header(headers.tenant);
  if (!tenant) throw new GatewayError("BAD_REQUEST", "A tenant is required.", { param: headers.tenant });
  return tenant;
}

function notFound(id: string): GatewayError {
  return new GatewayError("NOT_FOUND", `Response with id '${id}' not found.`, { param: "response_id" });
}

/** An input item with an id, as the input_items list shows it. */
function listed(item: unknown, index: number, responseId: string): unknown {
  if (!item || typeof item !== "object") return item;
  const withType = { type: "message", ...(item as Record<string, unknown>) };
  return "id" in withType ? withType : { id: `item_${index}_${responseId}`, ...withType };
}

/** The stored responses of a tenant: save (translated answers), read, list input items, delete. */
export function registerResponseStoreRoutes(app: OpenAPIHono<PoolHonoEnv>): void {
  app.openapi(saveRoute, async (c) => {
    const body = c.req.valid("json");
    const saved = await withStore(c.var.requestId, () =>
      c.var.services.responseStore.save({
        id: body.response.id,
        tenantId: tenantOf(c),
        keyId: c.req.header(headers.keyId) ?? null,
        model: body.response.model,
        previousResponseId: body.previous_response_id ?? null,
        inputItems: body.input_items,
        response: body.response,
      }),
    );
    return saved instanceof Response ? saved : c.body(null, 204);
  });

  app.openapi(getRoute, async (c) => {
    const { id } = c.req.valid("param");
    const row = await withStore(c.var.requestId, () => c.var.services.responseStore.get(tenantOf(c), id));
    if (row instanceof Response) return row;
    if (!row) throw notFound(id);
    return c.json(row.response, 200);
  });

  app.openapi(inputItemsRoute, async (c) => {
    const { id } = c.req.valid("param");
    const row = await withStore(c.var.requestId, () => c.var.services.responseStore.get(tenantOf(c), id));
    if (row instanceof Response) return row;
    if (!row) throw notFound(id);
    const data = row.inputItems.map((item, index) => listed(item, index, id)) as { id?: string }[];
    return c.json(
      {
        object: "list" as const,
        data,
        first_id: data[0]?.id ?? null,
        last_id: data.at(-1)?.id ?? null,
        has_more: false,
      },
      200,
    );
  });

  app.openapi(deleteRoute, async (c) => {
    const { id } = c.req.valid("param");
    const store = c.var.services.responseStore;
    const deleted = await withStore(c.var.requestId, () => store.delete(tenantOf(c), id));
    if (deleted instanceof Response) return deleted;
    if (!deleted) throw notFound(id);
    return c.json({ id, object: "response" as const, deleted: true }, 200);
  });
}
