import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import { ProviderError } from "../openai-compatible/errors.ts";

/**
 * What a provider does with a request field it was sent: `pass` (sent on, or translated), `drop`
 * (left out, and named in the answer's `x-tiergate-dropped-fields` header: only for fields that do not
 * change the answer's shape) or `refuse` (the endpoint cannot serve the request: routing moves on to one
 * that can, and a 400 naming the field when none can).
 */
export type FieldVerdict = "pass" | "drop" | "refuse";

/** A verdict, or one for whole answers and another for streams. */
export type FieldRule = FieldVerdict | { whole: FieldVerdict; streamed: FieldVerdict };

/**
 * The request features whose handling differs between providers. `key` is what a 400 names as
 * `param`; `label` is the row of the providers README table; `present` says whether a request uses it
 * in a way that matters (e.g. `n` only above 1, `parallel_tool_calls` only when false).
 */
export interface ChatFeature {
  key: string;
  label: string;
  present(request: ChatCompletionRequest): boolean;
}

const given = (value: unknown) => value !== undefined && value !== null;
const field =
  (name: keyof ChatCompletionRequest) =>
  (request: ChatCompletionRequest): boolean =>
    given(request[name]);
const anyPart = (request: ChatCompletionRequest, test: (type: string, url?: string) => boolean) =>
  request.messages.some(
    (m) =>
      Array.isArray(m.content) &&
      m.content.some((p) => test(p.type, p.type === "image_url" ? p.image_url.url : undefined)),
  );
const choiceType = (request: ChatCompletionRequest) =>
  typeof request.tool_choice === "object" ? request.tool_choice.type : undefined;

/** Every feature a provider table may rule on, in the order the README lists them. */
export const chatFeatures: readonly ChatFeature[] = [
  { key: "n", label: "`n` > 1", present: (r) => (r.n ?? 1) > 1 },
  { key: "logprobs", label: "`logprobs`", present: (r) => r.logprobs === true },
  { key: "top_logprobs", label: "`top_logprobs`", present: field("top_logprobs") },
  { key: "logit_bias", label: "`logit_bias`", present: field("logit_bias") },
  {
    key: "response_format",
    label: "`response_format` json_object / json_schema",
    present: (r) => given(r.response_format) && r.response_format?.type !== "text",
  },
  { key: "temperature", label: "`temperature`", present: field("temperature") },
  { key: "top_p", label: "`top_p`", present: field("top_p") },
  { key: "top_k", label: "`top_k` (vLLM extra)", present: (r) => (r.top_k ?? 0) > 0 },
  { key: "seed", label: "`seed`", present: field("seed") },
  { key: "presence_penalty", label: "`presence_penalty`", present: field("presence_penalty") },
  { key: "frequency_penalty", label: "`frequency_penalty`", present: field("frequency_penalty") },
  { key: "min_p", label: "`min_p` (vLLM extra)", present: field("min_p") },
  {
    key: "repetition_penalty",
    label: "`repetition_penalty` (vLLM extra)",
    present: field("repetition_penalty"),
  },
  {
    key: "parallel_tool_calls",
    label: "`parallel_tool_calls: false`",
    present: (r) => r.parallel_tool_calls === false,
  },
  { key: "user", label: "`user`", present: field("user") },
  { key: "safety_identifier", label: "`safety_identifier`", present: field("safety_identifier") },
  { key: "metadata", label: "`metadata`", present: field("metadata") },
  { key: "store", label: "`store`", present: field("store") },
  { key: "service_tier", label: "`service_tier`", present: field("service_tier") },
  { key: "prompt_cache_key", label: "`prompt_cache_key`", present: field("prompt_cache_key") },
  {
    key: "prompt_cache_retention",
    label: "`prompt_cache_retention`",
    present: field("prompt_cache_retention"),
  },
  { key: "reasoning_effort", label: "`reasoning_effort`", present: field("reasoning_effort") },
  { key: "verbosity", label: "`verbosity`", present: field("verbosity") },
  { key: "prediction", label: "`prediction`", present: field("prediction") },
  {
    key: "modalities",
    label: '`modalities` with `"audio"`',
    present: (r) => r.modalities?.includes("audio") === true,
  },
  { key: "audio", label: "`audio` (output)", present: field("audio") },
  { key: "web_search_options", label: "`web_search_options`", present: field("web_search_options") },
  {
    key: "functions",
    label: "`functions` / `function_call` (deprecated)",
    present: (r) => (r.functions?.length ?? 0) > 0 || given(r.function_call),
  },
  {
    key: "messages[].content[].image_url",
    label: "images by http(s) URL",
    present: (r) => anyPart(r, (type, url) => type === "image_url" && !url?.startsWith("data:")),
  },
  {
    key: "messages[].content[].input_audio",
    label: "`input_audio` content parts",
    present: (r) => anyPart(r, (type) => type === "input_audio"),
  },
  {
    key: "messages[].content[].file",
    label: "`file` content parts",
    present: (r) => anyPart(r, (type) => type === "file"),
  },
  {
    key: "tools[].custom",
    label: 'custom tools (`tools[].type: "custom"`)',
    present: (r) => r.tools?.some((t) => t.type === "custom") === true,
  },
  {
    key: "messages[].tool_calls[].custom",
    label: "custom tool calls in assistant messages",
    present: (r) =>
      r.messages.some((m) => m.role === "assistant" && m.tool_calls?.some((c) => c.type === "custom")),
  },
  { key: "tool_choice.custom", label: "`tool_choice` custom", present: (r) => choiceType(r) === "custom" },
  {
    key: "tool_choice.allowed_tools",
    label: "`tool_choice` `allowed_tools`",
    present: (r) => choiceType(r) === "allowed_tools",
  },
];

/** One provider's rules: a verdict for every feature of {@link chatFeatures}. */
export type FieldTable = Readonly<Record<string, FieldRule>>;

/** A table where every feature passes (the OpenAI wire format carries every field as it is). */
export const passEverything: FieldTable = Object.fromEntries(chatFeatures.map((f) => [f.key, "pass"]));

/** The verdict of a rule for a whole answer or a stream. */
export function verdictOf(rule: FieldRule | undefined, stream: boolean): FieldVerdict {
  if (rule === undefined) return "pass";
  if (typeof rule === "string") return rule;
  return stream ? rule.streamed : rule.whole;
}

/** What a table makes of one request: the features it refuses and those it drops, in table order. */
export function judgeFields(
  table: FieldTable,
  request: ChatCompletionRequest,
  stream: boolean,
): { refused: string[]; dropped: string[] } {
  const refused: string[] = [];
  const dropped: string[] = [];
  for (const feature of chatFeatures) {
    const verdict = verdictOf(table[feature.key], stream);
    if (verdict === "pass" || !feature.present(request)) continue;
    (verdict === "refuse" ? refused : dropped).push(feature.key);
  }
  return { refused, dropped };
}

/**
 * A request field an endpoint's provider cannot honour. Not the client's fault while another endpoint
 * can honour it: routing moves on, and only when no candidate is left does the client get a 400 naming
 * `field` (kept as a `rejected` failure with status 400 for callers that see it directly).
 */
export class FieldRefusal extends ProviderError {
  constructor(
    readonly provider: string,
    readonly field: string,
    when = "",
  ) {
    super("rejected", `${provider} does not support '${field}'${when}`, 400);
  }
}

/** Throws a {@link FieldRefusal} for the first feature of the request the table refuses. */
export function enforceFieldRules(options: {
  provider: string;
  table: FieldTable;
  request: ChatCompletionRequest;
  stream: boolean;
}): void {
  const [first] = judgeFields(options.table, options.request, options.stream).refused;
  if (first === undefined) return;
  const onlyStreamed = typeof options.table[first] === "object";
  throw new FieldRefusal(options.provider, first, onlyStreamed ? " when streaming" : "");
}
