import type { ChatEngine } from "./chat-engine.ts";
import type { ModelEntry, ModelServerConfig } from "./config.ts";
import type { EmbeddingEngine } from "./embedding-engine.ts";
import type { ModelServerMetrics } from "./metrics.ts";
import { type OpenAIErrorBody, openAIError } from "./openai-schemas.ts";
import type { SerialQueue } from "./serial-queue.ts";

export interface LoadedEngines {
  chat: ChatEngine;
  embedding: EmbeddingEngine;
}

/** What the HTTP handlers share. `engines` stays undefined until both models have loaded. */
export interface ServerState {
  config: ModelServerConfig;
  engines: LoadedEngines | undefined;
  /** Serialises generation: one context sequence, two cores. */
  generationQueue: SerialQueue;
  /** Serialises embedding runs (the WASM backend runs on the event loop). */
  embeddingQueue: SerialQueue;
  metrics: ModelServerMetrics;
}

export type Resolved =
  | { ok: true; model: ModelEntry }
  | { ok: false; status: 400 | 404; body: OpenAIErrorBody };

/** Finds a configured model of the wanted kind; unknown names are 404 `model_not_found` as in OpenAI. */
export function resolveModel(state: ServerState, name: string, kind: ModelEntry["kind"]): Resolved {
  const model = state.config.models.find((m) => m.name === name);
  if (!model) {
    return {
      ok: false,
      status: 404,
      body: openAIError(
        `The model \`${name}\` does not exist.`,
        "invalid_request_error",
        "model",
        "model_not_found",
      ),
    };
  }
  if (model.kind !== kind) {
    const what = kind === "chat" ? "text generation" : "embeddings";
    return {
      ok: false,
      status: 400,
      body: openAIError(
        `The model \`${name}\` does not support ${what}.`,
        "invalid_request_error",
        "model",
        "model_not_supported",
      ),
    };
  }
  return { ok: true, model };
}

export const loadingError = openAIError(
  "The models are still loading.",
  "server_error",
  null,
  "model_loading",
);
export const overloadedError = openAIError(
  "Too many requests are waiting for this server; retry later.",
  "server_error",
  null,
  "server_overloaded",
);

export const unixSeconds = (): number => Math.floor(Date.now() / 1000);
