import { ResponsesStreamWatcher } from "../../../shared/formats/responses/passthrough.ts";
import type { EndpointSpec } from "../types.ts";
import { clientFor } from "./endpoint.ts";
import { ProviderError, toProviderError } from "./errors.ts";

/** One Responses API call passed through to an endpoint that serves `/v1/responses` (vLLM). */
export interface ResponsesCall {
  endpoint: EndpointSpec;
  /** The client's Responses body; only `model` is replaced (by the endpoint's served model). */
  body: Record<string, unknown>;
  /** Aborted by the caller or by the router's per-attempt timer. */
  signal: AbortSignal;
}

/** A passthrough answer: the upstream's JSON text, or its event stream opened up to the first output. */
export type PassedThrough =
  | { kind: "json"; text: string; response: unknown }
  | {
      kind: "stream";
      /** The bytes read so far (up to and including the first output event). */
      head: Uint8Array[];
      reader: ReadableStreamDefaultReader<Uint8Array>;
      watcher: ResponsesStreamWatcher;
      firstTokenAt: number;
      /** Settles when the relay ends the stream (the balancer's bookkeeping waits for it). */
      outcome: Promise<StreamOutcome>;
      finish(outcome: StreamOutcome): void;
    };

/** How a relayed stream ended, for the balancer. */
export type StreamOutcome = "ok" | "failed" | "neutral";

/** POST {baseURL}/responses with the client's body; the raw HTTP answer (the SDK maps error statuses). */
async function post(call: ResponsesCall, where: string): Promise<Response> {
  try {
    const body = { ...call.body, model: call.endpoint.model };
    const client = clientFor(call.endpoint);
    return await client.responses.create(body as never, { signal: call.signal }).asResponse();
  } catch (error: unknown) {
    throw toProviderError(error, where, call.signal);
  }
}

/** Reads a streamed answer up to its first output event; a failure or an end before it throws. */
async function openStream(response: Response, call: ResponsesCall, where: string): Promise<PassedThrough> {
  if (!response.body) throw new ProviderError("stream_cut", `${where}: no body`);
  const reader = response.body.getReader();
  const watcher = new ResponsesStreamWatcher();
  const head: Uint8Array[] = [];
  try {
    for (;;) {
      const chunk = await reader.read();
      if (chunk.done) throw new ProviderError("stream_cut", `${where}: ended before any output`);
      head.push(chunk.value);
      const verdict = watcher.push(chunk.value);
      if (verdict === "malformed") throw new ProviderError("server", `${where}: malformed event`);
      if (verdict === "output") break;
    }
  } catch (error: unknown) {
    await reader.cancel().catch(() => undefined);
    throw toProviderError(error, where, call.signal);
  }
  let finish: (outcome: StreamOutcome) => void = () => {};
  const outcome = new Promise<StreamOutcome>((resolve) => {
    finish = resolve;
  });
  return { kind: "stream", head, reader, watcher, firstTokenAt: Date.now(), outcome, finish };
}

/**
 * POST /v1/responses, passed through: the answer is relayed unchanged. A JSON answer is read whole
 * (it must be a response object); a stream is opened up to its first output event, so every failure
 * before that still falls over to another endpoint.
 */
export async function passThroughResponses(call: ResponsesCall): Promise<PassedThrough> {
  const where = `responses ${call.endpoint.id}`;
  const response = await post(call, where);
  if (call.body.stream === true) return openStream(response, call, where);
  let text: string;
  try {
    text = await response.text();
  } catch (error: unknown) {
    throw toProviderError(error, where, call.signal);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ProviderError("server", `${where}: the answer is not JSON`);
  }
  if ((parsed as { object?: unknown } | null)?.object !== "response") {
    throw new ProviderError("server", `${where}: the answer is not a response object`);
  }
  return { kind: "json", text, response: parsed };
}
