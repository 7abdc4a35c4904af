import { DependencyError } from "../../shared/dependency-error.ts";
import { GatewayError } from "../../shared/errors.ts";
import { withRetry } from "../../shared/retry.ts";
import {
  type AnswerRequest,
  type AnswerResponse,
  type AnswerRule,
  abstentions,
} from "../../shared/schemas/answer.ts";
import type { AnswerGate, GateVerdict } from "./answer-gate.ts";
import type { ScoredChunk } from "./fusion.ts";
import { type Generator, ModelCallError } from "./model-clients.ts";
import { buildAnswerMessages, cleanReply } from "./prompt.ts";
import type { Retriever } from "./retriever.ts";

export interface AnswerDependencies {
  retriever: Retriever;
  generator: Generator;
  defaultTopK: number;
  defaultThreshold: number;
  defaultMaxTokens: number;
  generationRetry: { attempts: number; baseDelayMs: number };
  /** Checks a generated answer against its passages; without one, answers go out unchecked. */
  gate?: AnswerGate;
}

/** The response plus what the caller records in the request event. */
export interface AnswerOutcome {
  response: AnswerResponse;
  /** The ranked chunks retrieval returned (empty when it returned none or failed). */
  ranked: ScoredChunk[];
  /** The dependency failure behind `retrieval_unavailable`, for the log. */
  retrievalError?: DependencyError;
  /** The model's reply before the gate, and the gate's verdict (when a model ran). */
  generated?: { text: string; verdict: GateVerdict | null };
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
  extra: Partial<Pick<AnswerResponse, "citations" | "model" | "usage" | "gate">> = {},
): AnswerResponse {
  const gate = extra.gate ? { gate: extra.gate } : {};
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
    ...gate,
  };
}

/** The gate's verdict on a generated answer; null when no gate is set. */
export function checkAnswer(
  gate: AnswerGate | undefined,
  input: { question: string; answer: string; context: readonly ScoredChunk[] },
): GateVerdict | null {
  if (!gate) return null;
  return gate({ question: input.question, answer: input.answer, passages: input.context.map((c) => c.text) });
}

/** The response field describing a withheld answer. */
export function gateField(verdict: GateVerdict): NonNullable<AnswerResponse["gate"]> {
  return {
    reason: verdict.reason ?? "unsupported_claims",
    unsupported_spans: verdict.unsupported,
    coverage: Math.round(verdict.coverage * 1000) / 1000,
  };
}

/** What retrieval decided before any model runs: abstain by a rule, or answer from this context. */
export type Grounding =
  | {
      kind: "abstain";
      rule: Exclude<AnswerRule, "generated">;
      text: string;
      scores: AnswerResponse["scores"];
      ranked: ScoredChunk[];
      retrievalError?: DependencyError;
    }
  | { kind: "context"; context: ScoredChunk[]; scores: AnswerResponse["scores"]; ranked: ScoredChunk[] };

export interface GroundingQuery {
  collection: string;
  question: string;
  top_k?: number;
  threshold?: number;
  filter?: Record<string, string>;
}

/**
 * The article's deterministic rules, before any model call:
 * - retrieval fails (ClickHouse or the embeddings tier down) → `retrieval_unavailable`, no-context text;
 * - nothing retrieved → `no_context`;
 * - best relevance < threshold → `below_threshold`;
 * - otherwise the chunks at or above the threshold (top_k of them) are the context.
 */
export async function groundQuestion(
  deps: Pick<AnswerDependencies, "retriever" | "defaultTopK" | "defaultThreshold">,
  query: GroundingQuery,
  ctx: AnswerContext,
): Promise<Grounding> {
  const topK = query.top_k ?? deps.defaultTopK;
  let result: Awaited<ReturnType<Retriever["retrieve"]>>;
  try {
    result = await deps.retriever.retrieve({
      tenant: ctx.tenant,
      collection: query.collection,
      question: query.question,
      topK,
      filter: query.filter,
      threshold: query.threshold,
      signal: ctx.signal,
    });
  } catch (error: unknown) {
    if (!(error instanceof DependencyError)) throw error;
    const scores = { best: null, threshold: query.threshold ?? deps.defaultThreshold, retrieved: 0 };
    return {
      kind: "abstain",
      rule: "retrieval_unavailable",
      text: abstentions.no_context,
      scores,
      ranked: [],
      retrievalError: error,
    };
  }
  const ranked = result.kind === "ranked" ? result.chunks : [];
  if (ranked.length === 0) {
    const scores = { best: null, threshold: result.threshold, retrieved: 0 };
    return { kind: "abstain", rule: "no_context", text: abstentions.no_context, scores, ranked };
  }
  const best = Math.max(...ranked.map((c) => c.relevance));
  const scores = { best, threshold: result.threshold, retrieved: ranked.length };
  if (best < result.threshold) {
    return { kind: "abstain", rule: "below_threshold", text: abstentions.below_threshold, scores, ranked };
  }
  const context = ranked.filter((c) => c.relevance >= result.threshold).slice(0, topK);
  return { kind: "context", context, scores, ranked };
}

/** Citations of the chunks given to the model. */
export function citationsOf(context: readonly ScoredChunk[]): AnswerResponse["citations"] {
  return context.map((c) => ({
    chunk_id: c.chunk_id,
    document_id: c.document_id,
    source: c.source,
    score: c.relevance,
  }));
}

/**
 * Answers a question from a tenant's collection, or abstains deterministically without calling a model
 * (see `groundQuestion`). Otherwise the generation tier answers from the context, which comes back as
 * citations. A generation failure is thrown (the route answers 503).
 */
export async function answerQuestion(
  deps: AnswerDependencies,
  request: AnswerRequest,
  ctx: AnswerContext,
): Promise<AnswerOutcome> {
  const grounding = await groundQuestion(deps, request, ctx);
  if (grounding.kind === "abstain") {
    const outcome: AnswerOutcome = {
      response: respond(ctx, grounding.rule, grounding.text, grounding.scores),
      ranked: grounding.ranked,
    };
    if (grounding.retrievalError) outcome.retrievalError = grounding.retrievalError;
    return outcome;
  }
  const { context, scores, ranked } = grounding;
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
  const text = cleanReply(generation.text);
  const verdict = checkAnswer(deps.gate, { question: request.question, answer: text, context });
  const common = { citations: citationsOf(context), model: generation.model, usage: generation.usage };
  if (verdict && !verdict.supported) {
    const withheld = respond(ctx, "unsupported_answer", abstentions.below_threshold, scores, {
      ...common,
      gate: gateField(verdict),
    });
    return { response: withheld, ranked, generated: { text, verdict } };
  }
  const response = respond(ctx, "generated", verdict?.answer ?? text, scores, common);
  return { response, ranked, generated: { text, verdict } };
}
