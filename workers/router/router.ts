import { GatewayError } from "../../shared/errors.ts";
import type { ChatCompletionRequest, ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import type { EmbeddingsRequest, EmbeddingsResponse, ModelList } from "../../shared/schemas/embeddings.ts";
import { providerChat, providerEmbeddings } from "../providers/dispatch.ts";
import { chatCompletion } from "../providers/openai-compatible/chat.ts";
import { textCompletion } from "../providers/openai-compatible/completions.ts";
import { ProviderError } from "../providers/openai-compatible/errors.ts";
import { rulesChat } from "../providers/rules/chat.ts";
import { rulesEndpoint, rulesModelVersion } from "../providers/rules/endpoint.ts";
import type { ChatChunk, TaskType } from "../providers/types.ts";
import { chatTiers, findTier, type RoutingTable, type TierRoute } from "../registry/types.ts";
import { chatResult, tracedModelCall, tracedStreamOpen } from "../tracing/genai.ts";
import { tracedDecision } from "../tracing/routing.ts";
import { type AllowedModels, allowedView, modelForbidden } from "./allowed.ts";
import {
  type AttemptFailure,
  type RetryPolicy,
  runOnTier,
  type TierAttempt,
  TierExhausted,
} from "./attempts.ts";
import { Balancer, type BalancerOptions, defaultBalancerOptions } from "./balancer.ts";
import { capableChain, catalogChain } from "./catalog.ts";
import {
  type Classification,
  classifierPrompt,
  combine,
  heuristicClassify,
  parseLabel,
} from "./classifier.ts";
import { bundledDifficultySource, type DifficultySource, learnedClassify } from "./difficulty/source.ts";
import * as fieldRules from "./field-filter.ts";
import { chooseTier, chooseTierByTask, fallbackChain, type RouteDecision } from "./policy.ts";
import { resolveEmbeddingsTier, resolveNamedModel } from "./resolve.ts";
import { openStream, rulesStream, type StreamHandle } from "./stream.ts";

export interface RouterConfig {
  confidenceThreshold: number;
  /** `learned`: the difficulty classifier (no generation); `model`/`heuristic`: task classification. */
  classifier: "learned" | "model" | "heuristic";
  /** The learned router's knob: the success probability a tier must reach (default: the model's own). */
  targetSuccess?: number;
  retry: RetryPolicy;
  balancer: BalancerOptions;
}

export const defaultRouterConfig: RouterConfig = {
  confidenceThreshold: 0.6,
  classifier: "learned",
  retry: { attempts: 3, baseDelayMs: 20, maxDelayMs: 200 },
  balancer: defaultBalancerOptions,
};

/** Per request: its id, the overall deadline (epoch ms), the client's abort signal and the key's models. */
export interface RoutingContext {
  requestId: string;
  /** The tenant, for what routing learned from its feedback (absent: nothing learned applies). */
  tenant?: string;
  deadline: number;
  signal: AbortSignal;
  /**
   * The API key's allowed models (signed by the edge); null or absent: any. The choice, the fallback
   * chain and the embeddings tier are limited to the tiers it allows; `rules` needs no model.
   */
  allowedModels?: AllowedModels;
}

/** Who answered, for the response headers and the event. */
export interface Served {
  tier: string;
  version: string;
  provider: string;
  endpoint: string;
  model: string;
  /** Empty when the first choice answered; otherwise the failures and hops, e.g. `m-0:timeout,m-1:server>large`. */
  fallbackReason: string;
  /** When the answering attempt started (epoch ms). */
  startedAt: number;
  /** Request fields the serving endpoint's provider left out (its documented drop rules). */
  droppedFields?: string[];
}

const tierNames = ["small", "medium", "large", "embed"];

/** `auto` when no allowed tier handles the task: the most capable chat tier the key may use. */
function bestAllowed(
  table: RoutingTable,
): { tier: TierRoute; escalated: boolean; reasons: string[] } | undefined {
  const tier = chatTiers(table).at(-1);
  return tier && { tier, escalated: false, reasons: [`most capable allowed tier: ${tier.name}`] };
}

function describeFailures(failures: AttemptFailure[]): string {
  return failures.map((f) => `${f.endpoint}:${f.failure}`).join(",");
}

/**
 * The pool's router: classifies `auto` requests on the small tier, picks the tier, balances within it,
 * retries and falls back (another endpoint → the next tier that can do the task → `rules`).
 */
export class Router {
  readonly balancer: Balancer;
  /** Retries counted across requests (tests and metrics read it). */
  retries = 0;
  /** The difficulty classifier and the learned per-tenant shifts (the registry's once it is followed). */
  difficulty: DifficultySource = bundledDifficultySource;

  constructor(
    private readonly table: () => RoutingTable,
    readonly config: RouterConfig = defaultRouterConfig,
    balancer?: Balancer,
  ) {
    this.balancer = balancer ?? new Balancer(config.balancer);
  }

  get routingTable(): RoutingTable {
    return this.table();
  }

  /** The model classifier, constrained to one label word, combined with the heuristic. */
  async classify(request: ChatCompletionRequest, ctx: RoutingContext): Promise<Classification> {
    if (this.config.classifier === "learned") return learnedClassify(request, this.difficulty.model());
    const heuristic = heuristicClassify(request);
    if (this.config.classifier === "heuristic") return { ...heuristic, note: "disabled" };
    const small = findTier(this.table(), "small");
    if (!small || small.endpoints.length === 0) return { ...heuristic, note: "no_small_tier" };
    const prompt = classifierPrompt(request);
    try {
      const { result } = await runOnTier({
        tier: small,
        balancer: this.balancer,
        retry: { ...this.config.retry, attempts: 1 },
        deadline: ctx.deadline,
        signal: ctx.signal,
        attempt: {
          call: (endpoint, signal) =>
            endpoint.completions
              ? textCompletion({ endpoint, prompt, maxTokens: 3, temperature: 0, stop: ["\n"], signal })
              : chatCompletion({
                  endpoint,
                  request: {
                    model: endpoint.model,
                    messages: [{ role: "user", content: prompt }],
                    max_tokens: 3,
                    temperature: 0,
                  },
                  signal,
                }).then((c) => c.choices[0]?.message.content ?? ""),
        },
      });
      const label = parseLabel(result);
      return combine(heuristic, label, label ? undefined : "unparsable");
    } catch (error: unknown) {
      if (error instanceof ProviderError && error.failure === "aborted") throw error;
      return combine(heuristic, undefined, "classifier_failed");
    }
  }

  /** Resolves `model` to a tier and the reasons; unknown models are a 404 `model_not_found`. */
  async decide(
    request: ChatCompletionRequest,
    ctx: RoutingContext,
  ): Promise<{ decision: RouteDecision; primary: TierRoute }> {
    const full = this.table();
    const table = allowedView(full, ctx.allowedModels);
    if (request.model === "auto") {
      if (chatTiers(table).length === 0 && chatTiers(full).length > 0) throw modelForbidden("auto");
      const classification = await this.classify(request, ctx);
      const learned = this.learnedChoice(classification, ctx);
      const choice =
        (learned
          ? chooseTier(table, learned.success, learned)
          : chooseTierByTask(table, classification, this.config.confidenceThreshold)) ??
        (ctx.allowedModels ? bestAllowed(table) : undefined);
      if (!choice) throw new GatewayError("UPSTREAM_UNAVAILABLE", "No tier handles this request.");
      return {
        primary: choice.tier,
        decision: {
          mode: "auto",
          requested: "auto",
          tier: choice.tier.name,
          task: classification.task,
          classification,
          escalated: choice.escalated,
          reasons: choice.reasons,
          ...(learned ? { target: learned.target, shift: learned.shift } : {}),
        },
      };
    }
    return resolveNamedModel({ model: request.model, table, full });
  }

  /** The knob and the tenant's learned shift, for a classification that carries success predictions. */
  private learnedChoice(classification: Classification, ctx: RoutingContext) {
    const success = classification.success;
    if (!success) return undefined;
    const target = this.config.targetSuccess ?? this.difficulty.model().model.defaultTarget;
    const shift =
      ctx.tenant && classification.category ? this.difficulty.shift(ctx.tenant, classification.category) : 0;
    return { success, target, shift };
  }

  /**
   * The tiers to try: a catalog model then its `auto` tier's chain, or the tier's fallback chain; limited
   * to endpoints whose model can serve the request (tools, vision, json_schema, context window) and
   * whose provider honours every field it uses.
   */
  chainFor(
    request: ChatCompletionRequest,
    route: { primary: TierRoute; decision: RouteDecision; stream: boolean },
    ctx: RoutingContext,
  ): fieldRules.ServedFieldsContext {
    const { primary, decision } = route;
    const table = allowedView(this.table(), ctx.allowedModels);
    const model = table.models?.find((m) => m === primary);
    const chain = model
      ? catalogChain(model, (tier) => fallbackChain(table, tier, undefined), table)
      : fallbackChain(table, primary, decision.task);
    const honouring = fieldRules.honouringChain(capableChain(chain, request), request, route.stream);
    return { ...honouring, request, stream: route.stream };
  }

  /** Tries each tier of the chain; the failures so far make up the fallback reason. */
  async runChain<T>(
    chain: TierRoute[],
    ctx: RoutingContext,
    attemptFor: (tier: TierRoute) => TierAttempt<T>,
  ): Promise<{ result: T; served: Served } | { exhausted: string; failures: AttemptFailure[] }> {
    const hops: string[] = [];
    const failures: AttemptFailure[] = [];
    for (const tier of chain) {
      try {
        const done = await runOnTier({
          tier,
          balancer: this.balancer,
          retry: this.config.retry,
          deadline: ctx.deadline,
          signal: ctx.signal,
          attempt: attemptFor(tier),
          onRetry: () => {
            this.retries++;
          },
        });
        if (done.failures.length > 0) hops.push(describeFailures(done.failures));
        return {
          result: done.result,
          served: {
            tier: tier.name,
            version: tier.version,
            provider: done.endpoint.provider,
            endpoint: done.endpoint.id,
            model: done.endpoint.model,
            fallbackReason: hops.join(">"),
            startedAt: done.startedAt,
          },
        };
      } catch (error: unknown) {
        if (!(error instanceof TierExhausted)) throw error;
        failures.push(...error.failures);
        hops.push(error.failures.length > 0 ? describeFailures(error.failures) : `${tier.name}:no_endpoint`);
      }
    }
    return { exhausted: hops.join(">"), failures };
  }

  /** Who serves an exhausted chain: a 400 when every attempt refused a field, else the `rules`. */
  private exhaustedServed(
    outcome: { exhausted: string; failures: AttemptFailure[] },
    fields: fieldRules.ServedFieldsContext,
  ): Served {
    fieldRules.throwIfAllRefused(fields.request.model, fields, outcome.failures);
    return fieldRules.servedWithFields(this.rulesServed(outcome.exhausted), fields);
  }

  private rulesServed(reason: string): Served {
    return {
      tier: "rules",
      version: rulesModelVersion,
      provider: "rules",
      endpoint: rulesEndpoint.id,
      model: rulesEndpoint.model,
      fallbackReason: reason ? `${reason}>rules` : "rules",
      startedAt: Date.now(),
    };
  }

  /** A non-streamed chat completion. */
  async complete(
    request: ChatCompletionRequest,
    ctx: RoutingContext,
  ): Promise<{ decision: RouteDecision; served: Served; completion: ChatCompletionResponse }> {
    const { decision, primary } = await tracedDecision(request.model, () => this.decide(request, ctx));
    const fields = this.chainFor(request, { primary, decision, stream: false }, ctx);
    const outcome = await this.runChain(fields.chain, ctx, () => ({
      call: (endpoint, signal) =>
        tracedModelCall({ operation: "chat", endpoint, request, result: chatResult }, () =>
          providerChat({ endpoint, request, signal }),
        ),
    }));
    if ("result" in outcome) {
      const served = fieldRules.servedWithFields(outcome.served, fields);
      return { decision, served, completion: outcome.result };
    }
    const served = this.exhaustedServed(outcome, fields);
    const { rule: _rule, ...completion } = rulesChat(request, ctx.requestId);
    return { decision, served, completion };
  }

  /**
   * A streamed chat completion, opened up to its first token: nothing is committed to the client until
   * then, so every failure before it falls over invisibly.
   */
  async stream(
    request: ChatCompletionRequest,
    ctx: RoutingContext,
  ): Promise<{ decision: RouteDecision; served: Served; stream: StreamHandle }> {
    const { decision, primary } = await tracedDecision(request.model, () => this.decide(request, ctx));
    const fields = this.chainFor(request, { primary, decision, stream: true }, ctx);
    const outcome = await this.runChain(fields.chain, ctx, () => ({
      call: (endpoint, signal) =>
        tracedStreamOpen(endpoint, request, () => openStream({ endpoint, request, signal })),
      settled: (handle: StreamHandle) => handle.outcome,
    }));
    if ("result" in outcome) {
      const served = fieldRules.servedWithFields(outcome.served, fields);
      return { decision, served, stream: outcome.result };
    }
    const served = this.exhaustedServed(outcome, fields);
    return { decision, served, stream: rulesStream(request, ctx.requestId) };
  }

  /** Embeddings on the embeddings tier (no `rules` fallback: there is no honest deterministic vector). */
  async embed(
    request: EmbeddingsRequest,
    ctx: RoutingContext,
  ): Promise<{ served: Served; response: EmbeddingsResponse }> {
    const full = this.table();
    const table = allowedView(full, ctx.allowedModels);
    const tier = resolveEmbeddingsTier({ model: request.model, table, full });
    const outcome = await this.runChain([tier], ctx, () => ({
      call: (endpoint, signal) =>
        tracedModelCall(
          {
            operation: "embeddings",
            endpoint,
            result: (r) => ({ responseModel: r.model, inputTokens: r.usage?.prompt_tokens }),
          },
          () => providerEmbeddings({ endpoint, request, signal }),
        ),
    }));
    if ("result" in outcome) return { served: outcome.served, response: outcome.result };
    throw new GatewayError(
      "UPSTREAM_UNAVAILABLE",
      `The embeddings tier is unavailable (${outcome.exhausted}).`,
      {
        headers: { "retry-after": "1" },
      },
    );
  }

  /** GET /v1/models: `auto`, the tiers, and every active version and served model. */
  models(owner: string): ModelList {
    const created = 0;
    const ids = new Set<string>(["auto"]);
    const table = this.table();
    for (const name of tierNames) if (findTier(table, name)) ids.add(name);
    for (const tier of table.tiers) {
      ids.add(tier.version);
      for (const endpoint of tier.endpoints) ids.add(endpoint.model);
    }
    for (const model of table.models ?? []) for (const id of [model.name, ...model.aliases]) ids.add(id);
    return {
      object: "list",
      data: [...ids].map((id) => ({ id, object: "model" as const, created, owned_by: owner })),
    };
  }

  /** The chat tiers in cost order (for diagnostics). */
  chatTierNames(): string[] {
    return chatTiers(this.table()).map((t) => t.name);
  }
}

export type { ChatChunk, TaskType };
