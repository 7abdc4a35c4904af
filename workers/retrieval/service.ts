import type { AnswerRequest } from "../../shared/schemas/answer.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { WorkerEnv } from "../pool/env.ts";
import {
  type AnswerOutcome,
  answerQuestion,
  type Grounding,
  type GroundingQuery,
  groundQuestion,
} from "./answer.ts";
import { type AnswerGate, createAnswerGate } from "./answer-gate.ts";
import {
  createEmbedderRegistry,
  createOpenAIGenerator,
  type Embedder,
  type Generator,
} from "./model-clients.ts";
import { Retriever, type RetrieverOptions } from "./retriever.ts";
import { ClickHouseRetrievalStore } from "./store.ts";

/** RAG on the pool: hybrid retrieval from ClickHouse, abstention rules, generation. */
export interface RetrievalService {
  retriever: Retriever;
  /** The answer gate every RAG path runs on a generated answer before sending any of it. */
  gate: AnswerGate;
  /** `allowedModels`: the API key's (null: any); generation uses only tiers it allows. */
  answer(
    request: AnswerRequest,
    ctx: {
      tenant: string;
      requestId: string;
      signal?: AbortSignal;
      allowedModels?: readonly string[] | null;
    },
  ): Promise<AnswerOutcome>;
  /** Retrieval and the abstention rules alone, for RAG on chat completions. */
  ground(
    query: GroundingQuery,
    ctx: { tenant: string; requestId: string; signal?: AbortSignal },
  ): Promise<Grounding>;
}

export type RetrievalConfig = Pick<
  WorkerEnv,
  | "EMBEDDINGS_BASE_URL"
  | "EMBEDDINGS_API_KEY"
  | "EMBEDDINGS_DIMENSIONS"
  | "GENERATION_BASE_URL"
  | "GENERATION_API_KEY"
  | "GENERATION_MODEL"
  | "MODEL_TIMEOUT_MS"
  | "RAG_DEFAULT_THRESHOLD"
  | "RAG_TOP_K"
  | "RAG_MAX_TOKENS"
  | "RAG_ANSWER_MIN_COVERAGE"
  | "RAG_EXACT_SEARCH_MAX_CHUNKS"
>;

/** Retriever defaults shared by the pool, the eval and the bench. */
export function retrieverOptions(
  config: Pick<RetrievalConfig, "RAG_DEFAULT_THRESHOLD" | "RAG_EXACT_SEARCH_MAX_CHUNKS">,
): RetrieverOptions {
  return {
    defaultThreshold: config.RAG_DEFAULT_THRESHOLD,
    exactSearchMaxChunks: config.RAG_EXACT_SEARCH_MAX_CHUNKS,
    candidatesPerSide: 20,
    // ef_search 512: a merged 1M-chunk graph keeps recall@10 ≥ 0.97 at it (0.93 at 128), for ~the same time.
    tuning: { candidateListSize: 512, fetchMultiplier: 4 },
    scopeStatsTtlMs: 5_000,
    retry: { attempts: 2, baseDelayMs: 50 },
  };
}

/**
 * Builds the service. `embedderFor` and `generator` default to OpenAI-compatible clients from the config
 * (the local model server); pass the router's generation tier here to route through it instead, or
 * `generatorFor` to get a generator limited to each request's allowed models.
 */
export function createRetrievalService(
  config: RetrievalConfig,
  clickhouse: ClickHouse,
  overrides: {
    embedderFor?: (modelVersion: string) => Embedder;
    generator?: Generator;
    generatorFor?: (allowedModels: readonly string[] | null) => Generator;
  } = {},
): RetrievalService {
  const embedderFor =
    overrides.embedderFor ??
    createEmbedderRegistry({
      baseURL: config.EMBEDDINGS_BASE_URL,
      apiKey: config.EMBEDDINGS_API_KEY,
      timeoutMs: config.MODEL_TIMEOUT_MS,
      dimensions: config.EMBEDDINGS_DIMENSIONS,
    });
  const generator =
    overrides.generator ??
    createOpenAIGenerator({
      baseURL: config.GENERATION_BASE_URL,
      apiKey: config.GENERATION_API_KEY,
      model: config.GENERATION_MODEL,
      timeoutMs: config.MODEL_TIMEOUT_MS,
    });
  const retriever = new Retriever(
    new ClickHouseRetrievalStore(clickhouse),
    embedderFor,
    retrieverOptions(config),
  );
  const groundingDeps = {
    retriever,
    defaultTopK: config.RAG_TOP_K,
    defaultThreshold: config.RAG_DEFAULT_THRESHOLD,
  };
  const gate = createAnswerGate({ minCoverage: config.RAG_ANSWER_MIN_COVERAGE });
  return {
    retriever,
    gate,
    ground: (query, ctx) => groundQuestion(groundingDeps, query, ctx),
    answer: (request, ctx) =>
      answerQuestion(
        {
          retriever,
          generator: overrides.generatorFor?.(ctx.allowedModels ?? null) ?? generator,
          defaultTopK: config.RAG_TOP_K,
          defaultThreshold: config.RAG_DEFAULT_THRESHOLD,
          defaultMaxTokens: config.RAG_MAX_TOKENS,
          generationRetry: { attempts: 2, baseDelayMs: 100 },
          gate,
        },
        request,
        ctx,
      ),
  };
}
