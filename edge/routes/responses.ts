import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import { completionToResponse } from "../../shared/formats/responses/from-chat.ts";
import { ResponsesStreamTranslator } from "../../shared/formats/responses/stream.ts";
import { responsesToChat } from "../../shared/formats/responses/to-chat.ts";
import { jsonContent } from "../../shared/openapi.ts";
import { responsesRequestSchema, responsesResponseSchema } from "../../shared/schemas/responses.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { answerResponses } from "../services/responses-answer.ts";
import type { HonoEnv } from "../types.ts";
import { cachePolicy } from "./chat.ts";
import { chatContextOf } from "./chat-context.ts";
import { assertModelAllowed, bearerSecurity, bodyRouteErrors, bodyRouteMiddleware } from "./common.ts";

const responsesRoute = createRoute({
  method: "post",
  path: "/v1/responses",
  summary: "OpenAI Responses API, stateless, streamed (text/event-stream) when stream is true",
  description:
    "Passed through unchanged when the model's endpoints serve /v1/responses (catalog capability " +
    "`responses`, e.g. vLLM); otherwise answered through the chat completion path (routing, cache, " +
    "fallback apply; the cache is shared with equivalent chat requests). previous_response_id, " +
    "conversation, background and prompt are refused with a 400: no response is stored.",
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
}
