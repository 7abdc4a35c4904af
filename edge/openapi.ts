import { z } from "zod";
import { answerRequestSchema, answerResponseSchema } from "../shared/schemas/answer.ts";
import { chatCompletionRequestSchema, chatCompletionResponseSchema } from "../shared/schemas/chat.ts";
import {
  embeddingsRequestSchema,
  embeddingsResponseSchema,
  modelListSchema,
} from "../shared/schemas/embeddings.ts";

const errorSchema = z.object({
  error: z.object({
    message: z.string(),
    type: z.string(),
    code: z.string(),
    param: z.string().nullable(),
    request_id: z.string(),
  }),
});

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: z.ZodType, io: "input" | "output"): JsonSchema {
  const { $schema: _dialect, ...rest } = z.toJSONSchema(schema, { io, unrepresentable: "any" });
  return rest;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (name: string) => ({ "application/json": { schema: ref(name) } });

function errors(): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [status, description] of [
    ["400", "Invalid request (param names the field)"],
    ["401", "Missing or unknown API key"],
    ["403", "Revoked key or forbidden model"],
    ["413", "Body over the size cap"],
    ["415", "Content-Type is not application/json"],
    ["429", "Rate limited (Retry-After, X-RateLimit-*)"],
  ] as const) {
    out[status] = { description, content: json("Error") };
  }
  return out;
}

function post(summary: string, request: string, response: string, extra: JsonSchema = {}): JsonSchema {
  return {
    post: {
      summary,
      security: [{ bearer: [] }],
      requestBody: { required: true, content: json(request) },
      responses: { "200": { description: "OK", content: json(response) }, ...errors(), ...extra },
    },
  };
}

let document: JsonSchema | undefined;

/**
 * The OpenAPI 3.1 document, generated from the same zod schemas the routes validate with (zod's own
 * JSON Schema output, which is the dialect OpenAPI 3.1 uses). Built once per isolate.
 */
export function openApiDocument(): JsonSchema {
  document ??= {
    openapi: "3.1.0",
    info: {
      title: "tiergate",
      version: "0.1.0",
      description:
        "OpenAI-compatible gateway. Unknown request fields are rejected with 400 and `param` naming them. " +
        "Every response carries x-request-id and x-cache (HIT|MISS|BYPASS); x-fallback names the reason " +
        "when a deterministic fallback answered.",
    },
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer" } },
      schemas: {
        ChatCompletionRequest: jsonSchema(chatCompletionRequestSchema(), "input"),
        ChatCompletionResponse: jsonSchema(chatCompletionResponseSchema, "output"),
        EmbeddingsRequest: jsonSchema(embeddingsRequestSchema(), "input"),
        EmbeddingsResponse: jsonSchema(embeddingsResponseSchema, "output"),
        ModelList: jsonSchema(modelListSchema, "output"),
        AnswerRequest: jsonSchema(answerRequestSchema, "input"),
        AnswerResponse: jsonSchema(answerResponseSchema, "output"),
        Error: jsonSchema(errorSchema, "output"),
      },
    },
    paths: {
      "/v1/chat/completions": post(
        "Chat completion, streamed (text/event-stream) when stream is true",
        "ChatCompletionRequest",
        "ChatCompletionResponse",
        {
          "503": {
            description: "Deterministic fallback (x-fallback)",
            content: json("ChatCompletionResponse"),
          },
        },
      ),
      "/v1/embeddings": post("Embeddings", "EmbeddingsRequest", "EmbeddingsResponse"),
      "/v1/answer": post("Answer with citations, or the abstention", "AnswerRequest", "AnswerResponse"),
      "/v1/models": {
        get: {
          summary: "Models this key may use",
          security: [{ bearer: [] }],
          responses: { "200": { description: "OK", content: json("ModelList") }, "401": errors()["401"] },
        },
      },
    },
  };
  return document;
}
