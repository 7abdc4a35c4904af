import { DependencyError } from "../../shared/dependency-error.ts";
import { GatewayError } from "../../shared/errors.ts";
import { withRetry } from "../../shared/retry.ts";
import {
  type AnswerRequest,
  type AnswerResponse,
  type AnswerRule,
  abstentions,
} from "../../shared/schemas/answer.ts";
import type { ScoredChunk } from "./fusion.ts";
import { type Generator, ModelCallError } from "./model-clients.ts";
import { buildAnswerMessages } from "./prompt.ts";
import type { Retriever } from "./retriever.ts";

export interface AnswerDependencies {
  retriever: Retriever;
  generator: Generator;
  defaultTopK: number;
  defaultThreshold: number;
  defaultMaxTokens: number;
  generationRetry: { attempts: number; baseDelayMs: number };
}

/** The response plus what the caller records in the request event. */
export interface AnswerOutcome {
  response: AnswerResponse;
  /** The ranked chunks retrieval returned (empty when it returned none or failed). */
  ranked: ScoredChunk[];
  /** The dependency failure behind `retrieval_unavailable`, for the log. */
  retrievalError?: DependencyError;
}

interface AnswerContext {
  tenant: string;
  requestId: string;
  signal?: AbortSignal;
}

function respond(
  ctx: AnswerContext,
  rule: AnswerRule,
  answer: string,
  scores: AnswerResponse["scores"],
  extra: Partial<Pick<AnswerResponse, "citations" | "model" | "usage">> = {},
): AnswerResponse {
  return {
    id: `answer-${ctx.requestId}`,
    object: "answer",
    created: Math.floor(Date.now() / 1000),
    answer,
    rule,
    scores,
    citations: extra.citations ?? [],
    model: extra.model ?? null,
    usage: extra.usage ?? null,
  };
}

/**
 * Answers a question from a tenant's collection, or abstains deterministically without calling a model:
 * - retrieval fails (ClickHouse or the embeddings tier down) → `retrieval_unavailable`, no-context text;
 * - nothing retrieved → `no_context`;
 * - best relevance < threshold → `below_threshold`;
 * - otherwise the generation tier answers from the chunks at or above the threshold (top_k of them),
 *   which come back as citations. A generation failure is thrown (the route answers 503).
 */
export async function answerQuestion(
  deps: AnswerDependencies,
  request: AnswerRequest,
  ctx: AnswerContext,
): Promise<AnswerOutcome> {
  const topK = request.top_k ?? deps.defaultTopK;
  let result: Awaited<ReturnType<Retriever["retrieve"]>>;
  try {
    result = await deps.retriever.retrieve({
      tenant: ctx.tenant,
      collection: request.collection,
      question: request.question,
      topK,
      filter: request.filter,
      threshold: request.threshold,
      signal: ctx.signal,
    });
  } catch (error: unknown) {
    if (!(error instanceof DependencyError)) throw error;
    const scores = { best: null, threshold: request.threshold ?? deps.defaultThreshold, retrieved: 0 };
    return {
      response: respond(ctx, "retrieval_unavailable", abstentions.no_context, scores),
      ranked: [],
      retrievalError: error,
    };
  }

  const ranked = result.kind === "ranked" ? result.chunks : [];
  if (ranked.length === 0) {
    const scores = { best: null, threshold: result.threshold, retrieved: 0 };
    return { response: respond(ctx, "no_context", abstentions.no_context, scores), ranked };
  }
  const best = Math.max(...ranked.map((c) => c.relevance));
  const scores = { best, threshold: result.threshold, retrieved: ranked.length };
  if (best < result.threshold) {
    return { response: respond(ctx, "below_threshold", abstentions.below_threshold, scores), ranked };
  }

  const context = ranked.filter((c) => c.relevance >= result.threshold).slice(0, topK);
  const generation = await withRetry(
    () =>
      deps.generator.generate(buildAnswerMessages(request.question, context), {
        model: request.model,
        maxTokens: request.max_tokens ?? deps.defaultMaxTokens,
        temperature: request.temperature ?? 0,
        signal: ctx.signal,
      }),
    { ...deps.generationRetry, signal: ctx.signal },
  ).catch((error: unknown) => {
    if (request.model !== undefined && error instanceof ModelCallError && error.status === 404) {
      throw new GatewayError("BAD_REQUEST", `The model ${request.model} does not exist.`, {
        param: "model",
        cause: error,
      });
    }
    throw error;
  });
  const citations = context.map((c) => ({
    chunk_id: c.chunk_id,
    document_id: c.document_id,
    source: c.source,
    score: c.relevance,
  }));
  const response = respond(ctx, "generated", generation.text.trim(), scores, {
    citations,
    model: generation.model,
    usage: generation.usage,
  });
  return { response, ranked };
}
