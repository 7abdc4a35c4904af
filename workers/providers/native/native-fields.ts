import type { FieldTable } from "./field-rules.ts";

/**
 * The rules every native adapter (Anthropic, Gemini, Bedrock) shares: OpenAI-only bookkeeping fields
 * with no equivalent that do not change the answer are dropped; fields that change the answer's contract
 * (audio out, web search, deprecated functions, audio/file parts, custom tools) are refused. Each
 * provider's table starts from this and states its own differences.
 */
export const nativeBase: FieldTable = {
  n: "refuse",
  logprobs: "refuse",
  top_logprobs: "refuse",
  logit_bias: "refuse",
  response_format: "refuse",
  temperature: "pass",
  top_p: "pass",
  top_k: "pass",
  seed: "drop",
  presence_penalty: "drop",
  frequency_penalty: "drop",
  min_p: "drop",
  repetition_penalty: "drop",
  parallel_tool_calls: "drop",
  user: "drop",
  safety_identifier: "drop",
  metadata: "drop",
  store: "drop",
  service_tier: "drop",
  prompt_cache_key: "drop",
  prompt_cache_retention: "drop",
  reasoning_effort: "drop",
  verbosity: "drop",
  prediction: "drop",
  modalities: "refuse",
  audio: "refuse",
  web_search_options: "refuse",
  functions: "refuse",
  "messages[].content[].image_url": "refuse",
  "messages[].content[].input_audio": "refuse",
  "messages[].content[].file": "refuse",
  "tools[].custom": "refuse",
  "messages[].tool_calls[].custom": "refuse",
  "tool_choice.custom": "refuse",
  "tool_choice.allowed_tools": "refuse",
};
