import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { completionToResponse } from "../../shared/formats/responses/from-chat.ts";
import { ResponsesStreamTranslator } from "../../shared/formats/responses/stream.ts";
import { responsesToChat } from "../../shared/formats/responses/to-chat.ts";
import { errorResponses, jsonContent } from "../../shared/openapi.ts";
import { responsesRequestSchema, responsesResponseSchema } from "../../shared/schemas/responses.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { answerResponses } from "../services/responses-answer.ts";
import { forwardStoreCall } from "../services/responses-stored.ts";
import type { HonoEnv } from "../types.ts";
import { cachePolicy } from "./chat.ts";
import { chatContextOf } from "./chat-context.ts";
import {
  assertModelAllowed,
  bearerSecurity,
  bodyRouteErrors,
  bodyRouteMiddleware,
  keyRouteMiddleware,
} from "./common.ts";

const responsesRoute = createRoute({
  method: "post",
  path: "/v1/responses",
  summary: "OpenAI Responses API, stateless, streamed (text/event-stream) when stream is true",
  description:
    "Passed through unchanged when the model's endpoints serve /v1/responses (catalog capability " +
    "`responses`, e.g. vLLM); otherwise answered through the chat completion path (routing, cache, " +
    "fallback apply; the cache is shared with equivalent chat requests). With store: true the response " +
    "is kept (RESPONSES_RETENTION_DAYS) for GET /v1/responses/{id} and previous_response_id, which " +
    "prepends the stored conversation; stored and continued requests bypass the cache. conversation, " +
    "background and prompt are refused with a 400.",
  security: bearerSecurity,
  middleware: bodyRouteMiddleware,
  request: {
    body: { required: true, content: jsonContent(responsesRequestSchema.openapi("ResponsesRequest")) },
  },
  responses: {
    200: {
      description: "The response object, or its events as server-sent events",
      content: {
        ...jsonContent(responsesResponseSchema.openapi("Response")),
        "text/event-stream": { schema: z.string() },
      },
    },
    503: {
      description: "Deterministic fallback (x-fallback names the reason)",
      content: jsonContent(responsesResponseSchema),
    },
    ...bodyRouteErrors,
  },
});

const responseId = z.object({
  id: z
    .string()
    .min(1)
    .max(256)
    .regex(/^[A-Za-z0-9_-]+$/)
    .openapi({ param: { name: "id", in: "path" }, example: "resp_123" }),
});
const storeErrors = errorResponses(400, 401, 403, 404, 429, 503);

const getRoute = createRoute({
  method: "get",
  path: "/v1/responses/{id}",
  summary: "A response stored with store: true (this key's tenant only)",
  description: "Another tenant's id answers 404 exactly like a missing or expired one.",
  security: bearerSecurity,
  middleware: keyRouteMiddleware,
  request: { params: responseId },
  responses: {
    200: { description: "The response object", content: jsonContent(responsesResponseSchema) },
    ...storeErrors,
  },
});

const inputItemsRoute = createRoute({
  method: "get",
  path: "/v1/responses/{id}/input_items",
  summary: "The input items of a stored response: the whole conversation it answered",
  security: bearerSecurity,
  middleware: keyRouteMiddleware,
  request: { params: responseId },
  responses: {
    200: {
      description: "A list of input items",
      content: jsonContent(z.looseObject({ object: z.literal("list"), data: z.array(z.unknown()) })),
    },
    ...storeErrors,
  },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/v1/responses/{id}",
  summary: "Deletes a stored response (this key's tenant only)",
  security: bearerSecurity,
  middleware: keyRouteMiddleware,
  request: { params: responseId },
  responses: {
    200: {
      description: "Deleted",
      content: jsonContent(
        z.looseObject({ id: z.string(), object: z.literal("response"), deleted: z.boolean() }),
      ),
    },
    ...storeErrors,
  },
});

/** GET and DELETE /v1/responses/{id}, GET /v1/responses/{id}/input_items: the tenant's stored responses. */
function registerStoredResponseRoutes(app: OpenAPIHono<HonoEnv>): void {
  const path = (id: string) => `/internal/v1/responses/${encodeURIComponent(id)}`;
  app.openapi(getRoute, async (c) => {
    const call = { method: "GET" as const, path: path(c.req.valid("param").id) };
    const result = await forwardStoreCall(chatContextOf(c), call);
    return c.json(JSON.parse(result.body), result.status as 200);
  });
  app.openapi(inputItemsRoute, async (c) => {
    const call = { method: "GET" as const, path: `${path(c.req.valid("param").id)}/input_items` };
    const result = await forwardStoreCall(chatContextOf(c), call);
    return c.json(JSON.parse(result.body), result.status as 200);
  });
  app.openapi(deleteRoute, async (c) => {
    const call = { method: "POST" as const, path: `${path(c.req.valid("param").id)}/delete` };
    const result = await forwardStoreCall(chatContextOf(c), call);
    return c.json(JSON.parse(result.body), result.status as 200);
  });
}

/** POST /v1/responses: passed through to a native upstream, or translated to a chat completion and back. */
export function registerResponsesRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(responsesRoute, async (c) => {
    const request = c.req.valid("json");
    const chat = responsesToChat(request);
    parseOrThrow(c.var.services.chatLimits, chat);
    assertModelAllowed(c, chat.model);
    return answerResponses(chatContextOf(c), {
      request,
      chat,
      policy: cachePolicy(c, chat),
      translation: {
        json: (completion) => completionToResponse(completion, request),
        stream: () => new ResponsesStreamTranslator(request),
      },
    });
  });
  registerStoredResponseRoutes(app);
}
