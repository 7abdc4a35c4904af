import { createRoute, type OpenAPIHono, z } from "@hono/zod-openapi";
import type { MiddlewareHandler } from "hono";
import { anthropicErrorOf, completionToMessage } from "../../shared/formats/anthropic/from-chat.ts";
import { MessagesStreamTranslator } from "../../shared/formats/anthropic/stream.ts";
import { messagesToChat } from "../../shared/formats/anthropic/to-chat.ts";
import { jsonContent } from "../../shared/openapi.ts";
import {
  anthropicErrorSchema,
  messagesRequestSchema,
  messagesResponseSchema,
} from "../../shared/schemas/anthropic.ts";
import { parseOrThrow } from "../../shared/validation.ts";
import { anthropicErrors, requireAnthropicKey } from "../middleware/anthropic.ts";
import { jsonBody, limitBody } from "../middleware/json-body.ts";
import { enforceRateLimit } from "../middleware/rate-limit.ts";
import { answerChat } from "../services/chat-completions.ts";
import { translateAnswer } from "../services/translated-answer.ts";
import type { HonoEnv } from "../types.ts";
import { cachePolicy } from "./chat.ts";
import { chatContextOf } from "./chat-context.ts";
import { assertModelAllowed } from "./common.ts";

const errorContent = jsonContent(anthropicErrorSchema.openapi("AnthropicError"));
const anthropicError = (description: string) => ({ description, content: errorContent });
const errors = {
  400: anthropicError("Invalid request (invalid_request_error), naming the field"),
  401: anthropicError("Missing or invalid API key (authentication_error)"),
  403: anthropicError("Key revoked or model not allowed (permission_error)"),
  413: anthropicError("Body too large (request_too_large)"),
  415: anthropicError("Not JSON (invalid_request_error)"),
  429: anthropicError("Rate limited (rate_limit_error)"),
};

/** As `bodyRouteMiddleware`, with the key from x-api-key too and every error in Anthropic's shape. */
const messagesMiddleware: MiddlewareHandler<HonoEnv>[] = [
  anthropicErrors,
  limitBody,
  requireAnthropicKey,
  enforceRateLimit,
  jsonBody,
];

/** Either scheme authenticates: `Authorization: Bearer` or `x-api-key`. */
const messagesSecurity: Record<string, string[]>[] = [{ bearer: [] }, { apiKey: [] }];

const messagesRoute = createRoute({
  method: "post",
  path: "/v1/messages",
  summary: "Anthropic Messages API, streamed (Anthropic's event types) when stream is true",
  description:
    "Translated to the chat completion path (routing, cache, fallback apply). The key goes in x-api-key " +
    "or Authorization: Bearer. Errors use Anthropic's shape with the request id.",
  security: messagesSecurity,
  middleware: messagesMiddleware,
  request: {
    body: { required: true, content: jsonContent(messagesRequestSchema.openapi("MessagesRequest")) },
  },
  responses: {
    200: {
      description: "The message, or its events as server-sent events",
      content: {
        ...jsonContent(messagesResponseSchema.openapi("Message")),
        "text/event-stream": { schema: z.string() },
      },
    },
    503: { description: "Deterministic fallback", content: jsonContent(messagesResponseSchema) },
    ...errors,
  },
});

/** POST /v1/messages: translated to a chat completion and back. */
export function registerMessagesRoutes(app: OpenAPIHono<HonoEnv>): void {
  app.openapi(messagesRoute, async (c) => {
    const request = c.req.valid("json");
    const chat = messagesToChat(request);
    parseOrThrow(c.var.services.chatLimits, chat);
    assertModelAllowed(c, chat.model);
    const answer = await answerChat(chatContextOf(c), chat, cachePolicy(c, chat));
    const { requestId } = c.var;
    return translateAnswer(answer, {
      json: completionToMessage,
      stream: () => new MessagesStreamTranslator(request.model),
      error: (status: number, body: unknown) => anthropicErrorOf(status, body, requestId),
    });
  });
}
