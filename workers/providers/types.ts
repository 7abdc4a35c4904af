import type { ChatCompletionRequest, ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import type { EmbeddingsRequest, EmbeddingsResponse } from "../../shared/schemas/embeddings.ts";

/** What a tier is asked to do; the classifier assigns one to every `auto` request. */
export type TaskType = "classify" | "extract" | "generate" | "chat";
export const taskTypes: readonly TaskType[] = ["classify", "extract", "generate", "chat"];

/**
 * The provider kinds the router knows. Any OpenAI-compatible server (vLLM, llama.cpp, Ollama, OpenAI) is
 * `openai-compatible`; the native adapters translate to each provider's own wire format.
 */
export type ProviderKind =
  | "openai-compatible"
  | "anthropic"
  | "gemini"
  | "azure-openai"
  | "bedrock"
  | "rules";

/** Provider settings that do not fit base URL, key and model (all optional; each adapter has defaults). */
export interface ProviderOptions {
  /** Azure OpenAI `api-version`; Anthropic `anthropic-version`. */
  apiVersion?: string;
  /** AWS region of a Bedrock endpoint (SigV4 scope). */
  region?: string;
}

/**
 * One upstream endpoint, as data: adding a server is a registry row (or env vars), not code.
 * `id` is stable across registry reloads so balancer state (EWMA, breaker) survives them.
 */
export interface EndpointSpec {
  id: string;
  provider: ProviderKind;
  baseURL: string;
  apiKey: string;
  /** The model name the upstream serves (vLLM `--served-model-name`). */
  model: string;
  weight: number;
  /** Prometheus endpoint (vLLM `/metrics`); empty when the upstream has none. */
  metricsURL: string;
  /** Whether the upstream serves `/v1/completions` (the classifier prefers it). */
  completions: boolean;
  /** Provider settings; absent for OpenAI-compatible endpoints. */
  options?: ProviderOptions;
  /** What the model behind it can do (from the catalog); absent: assumed to do everything (tier endpoints). */
  capabilities?: readonly Capability[];
  /** The model's context window in tokens (from the catalog); absent: unknown, never excluded. */
  contextWindow?: number;
}

/**
 * What a catalog model can do; routing never sends a request to a model lacking one it needs.
 * `responses`: its OpenAI-compatible endpoints serve `POST /v1/responses` (vLLM), so Responses API
 * requests are passed through instead of translated to chat.
 */
export type Capability = "tools" | "vision" | "json_schema" | "embeddings" | "responses";
/** Every capability, for validating registry input. */
export const capabilities: readonly Capability[] = [
  "tools",
  "vision",
  "json_schema",
  "embeddings",
  "responses",
];

/** One streamed tool call fragment, OpenAI's shape: the first carries id and name, later ones argument text. */
export interface ToolCallDelta {
  index: number;
  id?: string;
  type?: "function";
  function: { name?: string; arguments: string };
}

/** One streamed chat chunk as received from upstream; forwarded unchanged apart from usage accounting. */
export interface ChatChunk {
  id?: string;
  object?: string;
  created?: number;
  model?: string;
  choices: {
    index: number;
    delta: { role?: string; content?: string | null; tool_calls?: ToolCallDelta[]; [field: string]: unknown };
    logprobs?: unknown;
    finish_reason: string | null;
  }[];
  usage?: { prompt_tokens: number; completion_tokens: number; total_tokens: number } | null;
  [extra: string]: unknown;
}

export interface ChatCall {
  endpoint: EndpointSpec;
  request: ChatCompletionRequest;
  /** Aborted by the caller or, with an `AttemptTimeout` reason, by the router's per-attempt timer. */
  signal: AbortSignal;
}

export interface EmbeddingsCall {
  endpoint: EndpointSpec;
  request: EmbeddingsRequest;
  /** Aborted by the caller or, with an `AttemptTimeout` reason, by the router's per-attempt timer. */
  signal: AbortSignal;
}

export type { ChatCompletionResponse, EmbeddingsResponse };
