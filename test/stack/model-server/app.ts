import { Hono } from "hono";
import { invalidJsonError, queueErrorResponse, registerGenerationRoutes } from "./generation-routes.ts";
import { embeddingRequestSchema, float32ToBase64, openAIError, validationError } from "./openai-schemas.ts";
import { registerResponsesRoute } from "./responses-route.ts";
import { loadingError, resolveModel, type ServerState } from "./server-state.ts";

const startedAt = Math.floor(Date.now() / 1000);

function registerEmbeddingRoute(app: Hono, state: ServerState): void {
  app.post("/v1/embeddings", async (c) => {
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      return c.json(invalidJsonError, 400);
    }
    const parsed = embeddingRequestSchema.safeParse(raw);
    if (!parsed.success) return c.json(validationError(parsed.error), 400);
    const request = parsed.data;
    const resolved = resolveModel(state, request.model, "embedding");
    if (!resolved.ok) return c.json(resolved.body, resolved.status);
    const engines = state.engines;
    if (!engines) return c.json(loadingError, 503);
    const dimensions = engines.embedding.dimensions;
    if (
      request.dimensions !== undefined &&
      request.dimensions !== null &&
      request.dimensions !== dimensions
    ) {
      const message = `dimensions: this model only produces ${dimensions}-dimensional embeddings`;
      return c.json(openAIError(message, "invalid_request_error", "dimensions", "invalid_value"), 400);
    }
    const inputs = typeof request.input === "string" ? [request.input] : request.input;
    if (inputs.some((text) => text.length === 0)) {
      return c.json(
        openAIError(
          "input: must not contain empty strings",
          "invalid_request_error",
          "input",
          "invalid_value",
        ),
        400,
      );
    }
    const startedMs = performance.now();
    try {
      const embeddings = await state.embeddingQueue.run(
        resolved.model.name,
        async () => {
          const out = [];
          for (const text of inputs) out.push(await engines.embedding.embed(text));
          return out;
        },
        c.req.raw.signal,
      );
      const promptTokens = embeddings.reduce((sum, e) => sum + e.tokens, 0);
      state.metrics.recordRequest(resolved.model.name, {
        promptTokens,
        generationTokens: 0,
        finishReason: "stop",
        seconds: (performance.now() - startedMs) / 1000,
      });
      const base64 = request.encoding_format === "base64";
      return c.json({
        object: "list",
        data: embeddings.map((e, index) => ({
          object: "embedding",
          index,
          embedding: base64 ? float32ToBase64(e.vector) : Array.from(e.vector),
        })),
        model: resolved.model.name,
        usage: { prompt_tokens: promptTokens, total_tokens: promptTokens },
      });
    } catch (error: unknown) {
      return queueErrorResponse(c, error);
    }
  });
}

/** The OpenAI-compatible HTTP surface (the subset vLLM serves that tiergate uses), plus /health and /metrics. */
export function createModelServerApp(state: ServerState): Hono {
  const app = new Hono();

  app.get("/health", (c) => (state.engines ? c.json({ status: "ok" }) : c.json({ status: "loading" }, 503)));

  app.get("/v1/models", (c) =>
    c.json({
      object: "list",
      data: state.config.models.map((m) => ({
        id: m.name,
        object: "model",
        created: startedAt,
        owned_by: "tiergate-local",
        root: m.weights,
        max_model_len: m.kind === "chat" ? state.config.contextSize : 256,
      })),
    }),
  );

  app.get("/metrics", (c) => {
    const text = state.metrics.render((model) => {
      const entry = state.config.models.find((m) => m.name === model);
      const queue = entry?.kind === "embedding" ? state.embeddingQueue : state.generationQueue;
      const running = queue.running(model);
      const cacheUsage =
        entry?.kind === "chat" && running > 0 && state.engines ? state.engines.chat.cacheUsage() : 0;
      return { running, waiting: queue.waiting(model), cacheUsage };
    });
    return c.text(text, 200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" });
  });

  app.use("/v1/*", async (c, next) => {
    state.metrics.recordPath(c.req.path);
    await next();
  });
  registerGenerationRoutes(app, state);
  registerResponsesRoute(app, state);
  registerEmbeddingRoute(app, state);

  app.notFound((c) =>
    c.json(
      openAIError(`No route for ${c.req.method} ${c.req.path}.`, "invalid_request_error", null, "not_found"),
      404,
    ),
  );
  app.onError((error, c) => {
    console.error(`model-server: ${c.req.method} ${c.req.path} failed:`, error);
    return c.json(openAIError(error.message, "server_error", null, "internal_error"), 500);
  });
  return app;
}
