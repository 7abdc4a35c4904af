import { type Attributes, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ChatCompletionRequest, ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import { attr } from "../../shared/trace-attributes.ts";
import type { EndpointSpec } from "../providers/types.ts";
import { inSpan, poolTracer, recordFailure } from "./spans.ts";

/** GenAI operations the pool calls model endpoints for. */
export type GenAiOperation = "chat" | "embeddings" | "text_completion";

/** Token counts and the model an endpoint says answered. */
export interface GenAiResult {
  responseModel?: string | undefined;
  responseId?: string | undefined;
  inputTokens?: number | undefined;
  outputTokens?: number | undefined;
  finishReasons?: string[] | undefined;
}

/** The request-side GenAI attributes of a call to `endpoint`. */
function requestAttributes(
  operation: GenAiOperation,
  endpoint: EndpointSpec,
  request?: ChatCompletionRequest,
): Attributes {
  const out: Attributes = {
    [attr.genAiOperationName]: operation,
    [attr.genAiProviderName]: endpoint.provider,
    [attr.genAiSystem]: endpoint.provider,
    [attr.genAiRequestModel]: endpoint.model,
    [attr.serverAddress]: hostOf(endpoint.baseURL),
    "tiergate.endpoint": endpoint.id,
  };
  if (request?.max_tokens != null) out[attr.genAiRequestMaxTokens] = request.max_tokens;
  if (request?.temperature != null) out[attr.genAiRequestTemperature] = request.temperature;
  if (request?.stream != null) out[attr.genAiRequestStream] = request.stream;
  return out;
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return "";
  }
}

/** Sets what the endpoint answered (model, id, usage, finish reasons) on a GenAI span. */
export function setGenAiResult(span: Span, result: GenAiResult): void {
  if (result.responseModel) span.setAttribute(attr.genAiResponseModel, result.responseModel);
  if (result.responseId) span.setAttribute(attr.genAiResponseId, result.responseId);
  if (result.inputTokens !== undefined) span.setAttribute(attr.genAiUsageInputTokens, result.inputTokens);
  if (result.outputTokens !== undefined) span.setAttribute(attr.genAiUsageOutputTokens, result.outputTokens);
  if (result.finishReasons?.length) span.setAttribute(attr.genAiResponseFinishReasons, result.finishReasons);
}

/** What a chat completion says about itself, for its span. */
export function chatResult(completion: ChatCompletionResponse): GenAiResult {
  return {
    responseModel: completion.model,
    responseId: completion.id,
    inputTokens: completion.usage?.prompt_tokens,
    outputTokens: completion.usage?.completion_tokens,
    finishReasons: completion.choices.map((c) => c.finish_reason ?? "").filter(Boolean),
  };
}

/** Options of one traced model call. */
export interface ModelCallOptions<T> {
  operation: GenAiOperation;
  endpoint: EndpointSpec;
  request?: ChatCompletionRequest;
  /** What the answer says (model, usage); omitted: only the request side is recorded. */
  result?: (value: T) => GenAiResult;
}

/**
 * One call to a model endpoint as a CLIENT span named `<operation> <model>`, as the GenAI conventions
 * name it, with the request's and the answer's attributes.
 */
export function tracedModelCall<T>(options: ModelCallOptions<T>, call: () => Promise<T>): Promise<T> {
  const { operation, endpoint } = options;
  return inSpan(
    `${operation} ${endpoint.model}`,
    { kind: SpanKind.CLIENT, attributes: requestAttributes(operation, endpoint, options.request) },
    async (span) => {
      const value = await call();
      if (options.result) setGenAiResult(span, options.result(value));
      return value;
    },
  );
}

/** What a traced stream exposes: its first chunks and how it ends. */
interface OpenedStream {
  head: { model?: string | undefined; id?: string | undefined }[];
  outcome: Promise<"ok" | "failed" | "neutral">;
}

/**
 * A streamed chat call as one CLIENT span from opening until the stream settles (it outlives the
 * call that opened it: the relay runs after the response headers are sent).
 */
export async function tracedStreamOpen<T extends OpenedStream>(
  endpoint: EndpointSpec,
  request: ChatCompletionRequest,
  open: () => Promise<T>,
): Promise<T> {
  if (!trace.getActiveSpan()?.isRecording()) return open();
  const span = poolTracer().startSpan(`chat ${endpoint.model}`, {
    kind: SpanKind.CLIENT,
    attributes: requestAttributes("chat", endpoint, request),
  });
  let handle: T;
  try {
    handle = await open();
  } catch (error: unknown) {
    recordFailure(span, error);
    span.end();
    throw error;
  }
  const first = handle.head[0];
  setGenAiResult(span, { responseModel: first?.model, responseId: first?.id });
  void handle.outcome.then((outcome) => {
    span.setAttribute("tiergate.stream.outcome", outcome);
    if (outcome === "failed") span.setStatus({ code: SpanStatusCode.ERROR, message: "stream failed" });
    span.end();
  });
  return handle;
}
