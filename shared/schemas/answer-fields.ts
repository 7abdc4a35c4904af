import type { ChatCompletionRequest } from "./chat.ts";

/**
 * Chat request fields, besides `messages`, that change the answer: two requests may share a cached
 * answer (exact or semantic) only when these are equal. Left out: `stream` and `stream_options` (a
 * stored completion replays as JSON or as SSE, tool calls and logprobs included), and what only labels
 * or bills a request (`user`, `safety_identifier`, `metadata`, `store`, `service_tier`,
 * `prompt_cache_key`, `prompt_cache_retention`).
 */
export const answerShapingFields = [
  "model",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "seed",
  "response_format",
  "tools",
  "tool_choice",
  "top_k",
  "min_p",
  "repetition_penalty",
  "rag",
  "n",
  "logprobs",
  "top_logprobs",
  "parallel_tool_calls",
  "functions",
  "function_call",
  "reasoning_effort",
  "verbosity",
  "modalities",
  "audio",
  "prediction",
  "web_search_options",
] as const satisfies readonly (keyof ChatCompletionRequest)[];
