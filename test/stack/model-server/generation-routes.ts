import { randomUUID } from "node:crypto";
import type { Context, Hono } from "hono";
import { type SSEStreamingApi, streamSSE } from "hono/streaming";
import type { Token } from "node-llama-cpp";
import type { GenerationResult } from "./chat-engine.ts";
import type { ModelEntry } from "./config.ts";
import {
  chatCompletionRequestSchema,
  completionRequestSchema,
  messageText,
  openAIError,
  stopList,
  validationError,
} from "./openai-schemas.ts";
import { QueueAbortedError, QueueFullError } from "./serial-queue.ts";
import {
  type LoadedEngines,
  loadingError,
  overloadedError,
  resolveModel,
  type ServerState,
  unixSeconds,
} from "./server-state.ts";

/** The request fields every generation endpoint shares, after validation. */
export interface GenerationJob {
  kind: "chat" | "text";
  model: ModelEntry;
  prompt: Token[];
  maxTokens: number;
  temperature: number;
  topP: number | undefined;
  seed: number;
  stop: string[];
  stream: boolean;
  includeUsage: boolean;
  startedAt: number;
}

function usage(promptTokens: number, completionTokens: number) {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** One streamed or final choice, shaped for the endpoint (`delta` for chat chunks, `text` for completions). */
function choice(kind: GenerationJob["kind"], text: string | undefined, finishReason: string | null) {
  if (kind === "text") return { index: 0, text: text ?? "", logprobs: null, finish_reason: finishReason };
  return {
    index: 0,
    delta: text === undefined ? {} : { content: text },
    logprobs: null,
    finish_reason: finishReason,
  };
}

/** Runs a job on the serial generation queue; `onText` gets each streamed piece. */
export function run(
  state: ServerState,
  engines: LoadedEngines,
  job: GenerationJob,
  signal: AbortSignal,
  onText?: (t: string) => void,
) {
  return state.generationQueue.run(
    job.model.name,
    () =>
      engines.chat.generate(job.prompt, {
        maxTokens: job.maxTokens,
        temperature: job.temperature,
        topP: job.topP,
        seed: job.seed,
        stop: job.stop,
        signal,
        onText,
      }),
    signal,
  );
}

/** Records a finished generation in the vLLM-named metrics. */
export function record(state: ServerState, job: GenerationJob, result: GenerationResult): void {
  state.metrics.recordRequest(job.model.name, {
    promptTokens: job.prompt.length,
    generationTokens: result.completionTokens,
    finishReason: result.finishReason,
    seconds: (performance.now() - job.startedAt) / 1000,
  });
}

async function respond(c: Context, state: ServerState, engines: LoadedEngines, job: GenerationJob) {
  const id = `${job.kind === "chat" ? "chatcmpl" : "cmpl"}-${randomUUID().replaceAll("-", "")}`;
  const created = unixSeconds();
  const object = job.kind === "chat" ? "chat.completion" : "text_completion";
  const head = { id, object, created, model: job.model.name };
  if (state.generationQueue.full()) return c.json(overloadedError, 503);

  if (!job.stream) {
    const result = await run(state, engines, job, c.req.raw.signal);
    record(state, job, result);
    const first =
      job.kind === "chat"
        ? {
            index: 0,
            message: { role: "assistant", content: result.text },
            logprobs: null,
            finish_reason: result.finishReason,
          }
        : choice("text", result.text, result.finishReason);
    return c.json({ ...head, choices: [first], usage: usage(job.prompt.length, result.completionTokens) });
  }

  const chunkHead = { ...head, object: job.kind === "chat" ? "chat.completion.chunk" : "text_completion" };
  return streamSSE(c, async (stream: SSEStreamingApi) => {
    const abort = new AbortController();
    stream.onAbort(() => abort.abort());
    const send = (body: unknown) => stream.writeSSE({ data: JSON.stringify(body) });
    if (job.kind === "chat") {
      await send({
        ...chunkHead,
        choices: [
          { index: 0, delta: { role: "assistant", content: "" }, logprobs: null, finish_reason: null },
        ],
      });
    }
    let writes = Promise.resolve();
    const result = await run(state, engines, job, abort.signal, (text) => {
      writes = writes.then(() => send({ ...chunkHead, choices: [choice(job.kind, text, null)] }));
    }).catch((error: unknown) => {
      if (error instanceof QueueAbortedError) return undefined;
      throw error;
    });
    await writes;
    if (!result) return;
    record(state, job, result);
    await send({ ...chunkHead, choices: [choice(job.kind, undefined, result.finishReason)] });
    if (job.includeUsage) {
      await send({ ...chunkHead, choices: [], usage: usage(job.prompt.length, result.completionTokens) });
    }
    await stream.writeSSE({ data: "[DONE]" });
  });
}

/** Validates the shared sampling fields and builds the job; answers 400 when the prompt cannot fit. */
export function buildJob(
  state: ServerState,
  engines: LoadedEngines,
  kind: GenerationJob["kind"],
  model: ModelEntry,
  prompt: Token[],
  body: {
    max_tokens?: number | null;
    max_completion_tokens?: number | null;
    temperature?: number | null;
    top_p?: number | null;
    seed?: number | null;
    stop?: string | string[] | null;
    stream?: boolean | null;
    stream_options?: { include_usage?: boolean | null } | null;
  },
): GenerationJob | { error: ReturnType<typeof openAIError> } {
  const { config } = state;
  const requested =
    body.max_completion_tokens ?? body.max_tokens ?? model.defaultMaxTokens ?? config.defaultMaxTokens;
  const maxTokens = Math.min(requested, config.maxTokensCap);
  const contextSize = engines.chat.contextSize;
  if (prompt.length + maxTokens > contextSize) {
    const message =
      `This model's maximum context length is ${contextSize} tokens. However, you requested ` +
      `${prompt.length + maxTokens} tokens (${prompt.length} in the prompt, ${maxTokens} for the completion). ` +
      "Please reduce the length of the prompt or the completion.";
    return {
      error: openAIError(
        message,
        "invalid_request_error",
        kind === "chat" ? "messages" : "prompt",
        "context_length_exceeded",
      ),
    };
  }
  return {
    kind,
    model,
    prompt,
    maxTokens,
    temperature: body.temperature ?? config.defaultTemperature,
    topP: body.top_p ?? undefined,
    seed: body.seed ?? config.defaultSeed,
    stop: stopList(body.stop),
    stream: body.stream === true,
    includeUsage: body.stream_options?.include_usage === true,
    startedAt: performance.now(),
  };
}

/** The JSON body, or `ok: false` when it is not JSON. */
export async function readJson(c: Context): Promise<{ ok: true; body: unknown } | { ok: false }> {
  try {
    return { ok: true, body: await c.req.json() };
  } catch {
    return { ok: false };
  }
}

export const invalidJsonError = openAIError(
  "The request body is not valid JSON.",
  "invalid_request_error",
  null,
  "invalid_json",
);

/** Errors from the queue become OpenAI errors; anything else is rethrown to the app's error handler. */
export function queueErrorResponse(c: Context, error: unknown) {
  if (error instanceof QueueFullError) return c.json(overloadedError, 503);
  // The client is gone; nginx's 499 "client closed request" only shows in logs.
  if (error instanceof QueueAbortedError) return new Response(null, { status: 499 });
  throw error;
}

/** `POST /v1/chat/completions` and `POST /v1/completions`. */
export function registerGenerationRoutes(app: Hono, state: ServerState): void {
  app.post("/v1/chat/completions", async (c) => {
    const raw = await readJson(c);
    if (!raw.ok) return c.json(invalidJsonError, 400);
    const parsed = chatCompletionRequestSchema.safeParse(raw.body);
    if (!parsed.success) return c.json(validationError(parsed.error), 400);
    const resolved = resolveModel(state, parsed.data.model, "chat");
    if (!resolved.ok) return c.json(resolved.body, resolved.status);
    const engines = state.engines;
    if (!engines) return c.json(loadingError, 503);
    const messages = parsed.data.messages.map((m) => ({
      role: m.role === "developer" ? "system" : m.role,
      content: messageText(m.content),
    }));
    const prompt = engines.chat.tokenize(engines.chat.renderChat(messages));
    const job = buildJob(state, engines, "chat", resolved.model, prompt, parsed.data);
    if ("error" in job) return c.json(job.error, 400);
    return respond(c, state, engines, job).catch((error: unknown) => queueErrorResponse(c, error));
  });

  app.post("/v1/completions", async (c) => {
    const raw = await readJson(c);
    if (!raw.ok) return c.json(invalidJsonError, 400);
    const parsed = completionRequestSchema.safeParse(raw.body);
    if (!parsed.success) return c.json(validationError(parsed.error), 400);
    const resolved = resolveModel(state, parsed.data.model, "chat");
    if (!resolved.ok) return c.json(resolved.body, resolved.status);
    const engines = state.engines;
    if (!engines) return c.json(loadingError, 503);
    const text = typeof parsed.data.prompt === "string" ? parsed.data.prompt : (parsed.data.prompt[0] ?? "");
    const prompt = engines.chat.tokenize(text);
    if (prompt.length === 0) {
      return c.json(
        openAIError("prompt: must not be empty", "invalid_request_error", "prompt", "invalid_value"),
        400,
      );
    }
    const job = buildJob(state, engines, "text", resolved.model, prompt, parsed.data);
    if ("error" in job) return c.json(job.error, 400);
    return respond(c, state, engines, job).catch((error: unknown) => queueErrorResponse(c, error));
  });
}
