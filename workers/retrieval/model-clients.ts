import OpenAI, { APIConnectionError, APIError } from "openai";
import { DependencyError } from "../../shared/dependency-error.ts";

/** Chat message as the generation tier takes it. */
export interface GenerationMessage {
  role: "system" | "user" | "assistant";
  content: string;
}

export interface GenerationResult {
  text: string;
  model: string;
  usage: { prompt_tokens: number; completion_tokens: number; total_tokens: number };
}

/** The generation tier, narrowed to what RAG needs (the pool's router can implement it later). */
export interface Generator {
  generate(
    messages: GenerationMessage[],
    options: { model?: string; maxTokens: number; temperature: number; signal?: AbortSignal },
  ): Promise<GenerationResult>;
}

/** The embeddings tier: unit-length vectors, one per input, in input order. */
export interface Embedder {
  /** Stored beside every vector; a change triggers a re-embed backfill. */
  readonly modelVersion: string;
  readonly dimensions: number;
  embed(texts: readonly string[], signal?: AbortSignal): Promise<number[][]>;
}

export interface OpenAICompatibleConfig {
  baseURL: string;
  apiKey: string;
  model: string;
  timeoutMs: number;
}

/** A failed call to a model endpoint; `status` is the HTTP status when the endpoint answered. */
export class ModelCallError extends DependencyError {
  constructor(
    retryable: boolean,
    message: string,
    readonly status: number | null,
    options?: { cause?: unknown },
  ) {
    super("model", retryable, message, options);
  }
}

/** Maps an SDK failure to a ModelCallError: connection problems, timeouts, 408/429/5xx are retryable. */
export function toModelError(error: unknown, action: string): DependencyError {
  if (error instanceof DependencyError) return error;
  if (error instanceof APIConnectionError) {
    return new ModelCallError(true, `${action}: ${error.message}`, null, { cause: error });
  }
  if (error instanceof APIError && typeof error.status === "number") {
    const retryable = error.status === 408 || error.status === 429 || error.status >= 500;
    return new ModelCallError(retryable, `${action}: HTTP ${error.status}`, error.status, { cause: error });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new ModelCallError(true, `${action}: ${message}`, null, { cause: error });
}

function client(config: OpenAICompatibleConfig): OpenAI {
  return new OpenAI({
    baseURL: config.baseURL,
    apiKey: config.apiKey,
    timeout: config.timeoutMs,
    maxRetries: 0,
  });
}

/** Scales a vector to unit length (cosine distance then equals 1 - dot product). */
export function normalise(vector: readonly number[]): number[] {
  let sum = 0;
  for (const x of vector) sum += x * x;
  const norm = Math.sqrt(sum);
  return norm === 0 ? [...vector] : vector.map((x) => x / norm);
}

/** Embeddings from any OpenAI-compatible /v1/embeddings (the local model server's MiniLM by default). */
export function createOpenAIEmbedder(
  config: OpenAICompatibleConfig & { modelVersion: string; dimensions: number },
): Embedder {
  const openai = client(config);
  return {
    modelVersion: config.modelVersion,
    dimensions: config.dimensions,
    async embed(texts, signal) {
      if (texts.length === 0) return [];
      let data: { index: number; embedding: number[] }[];
      try {
        const response = await openai.embeddings.create(
          { model: config.model, input: [...texts], encoding_format: "float" },
          { signal },
        );
        data = response.data;
      } catch (error: unknown) {
        throw toModelError(error, "embeddings failed");
      }
      const vectors = new Array<number[]>(texts.length);
      for (const item of data) vectors[item.index] = normalise(item.embedding);
      for (let i = 0; i < texts.length; i++) {
        const vector = vectors[i];
        if (!vector || vector.length !== config.dimensions) {
          throw new DependencyError(
            "model",
            false,
            `embeddings: input ${i} came back with ${vector?.length ?? 0} dimensions, expected ${config.dimensions}`,
          );
        }
      }
      return vectors;
    },
  };
}

/** `<model>@<revision>`: what is stored beside every vector. The model is what the embeddings endpoint is asked for. */
export function embeddingVersion(model: string, revision: string): string {
  return `${model}@${revision}`;
}

/** The model named by an embedding version (everything before the last `@`; the whole string when there is none). */
export function modelOfVersion(version: string): string {
  const at = version.lastIndexOf("@");
  return at > 0 ? version.slice(0, at) : version;
}

/**
 * Embedders by embedding version, on one endpoint. Queries embed with the collection's active version, so
 * switching a collection to a re-embedded version needs no pool restart.
 */
export function createEmbedderRegistry(
  config: Omit<OpenAICompatibleConfig, "model"> & { dimensions: number },
): (modelVersion: string) => Embedder {
  const cache = new Map<string, Embedder>();
  return (modelVersion) => {
    let embedder = cache.get(modelVersion);
    if (!embedder) {
      embedder = createOpenAIEmbedder({ ...config, model: modelOfVersion(modelVersion), modelVersion });
      cache.set(modelVersion, embedder);
    }
    return embedder;
  };
}

/** Chat completions from any OpenAI-compatible endpoint (the local model server's tiergate-large by default). */
export function createOpenAIGenerator(config: OpenAICompatibleConfig): Generator {
  const openai = client(config);
  return {
    async generate(messages, options) {
      try {
        const completion = await openai.chat.completions.create(
          {
            model: options.model ?? config.model,
            messages,
            max_tokens: options.maxTokens,
            temperature: options.temperature,
          },
          { signal: options.signal },
        );
        const usage = completion.usage;
        return {
          text: completion.choices[0]?.message.content ?? "",
          model: completion.model,
          usage: {
            prompt_tokens: usage?.prompt_tokens ?? 0,
            completion_tokens: usage?.completion_tokens ?? 0,
            total_tokens: usage?.total_tokens ?? 0,
          },
        };
      } catch (error: unknown) {
        throw toModelError(error, "generation failed");
      }
    },
  };
}
