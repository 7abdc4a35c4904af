import { failureOfStatus, ProviderError, toProviderError } from "../openai-compatible/errors.ts";

/** One JSON POST of a native adapter. */
export interface NativeRequest {
  url: string;
  headers: Record<string, string>;
  body: unknown;
  signal: AbortSignal;
  /** For error messages: adapter, capability and endpoint id. */
  where: string;
  /** Reads the provider's documented error body into a message (and a failure override, e.g. overloaded). */
  describeError: (status: number, body: string, headers: Headers) => string;
  /** Sends the request (plain fetch by default; Bedrock signs it first). */
  send?: (url: string, init: RequestInit) => Promise<Response>;
}

/**
 * POSTs JSON and returns the response when it is 2xx. Network failures, timeouts and non-2xx statuses
 * become a typed ProviderError (429/5xx retryable, 401/403/404 misconfigured, other 4xx rejected).
 */
export async function postJson(request: NativeRequest): Promise<Response> {
  const send = request.send ?? fetch;
  let response: Response;
  try {
    response = await send(request.url, {
      method: "POST",
      headers: { "content-type": "application/json", ...request.headers },
      body: JSON.stringify(request.body),
      signal: request.signal,
    });
  } catch (error: unknown) {
    throw fetchError(error, request.where, request.signal);
  }
  if (response.ok) return response;
  const text = await response.text().catch(() => "");
  const detail = request.describeError(response.status, text, response.headers);
  throw new ProviderError(
    failureOfStatus(response.status),
    `${request.where}: HTTP ${response.status} ${detail}`,
    response.status,
  );
}

/** A fetch failure: aborted by the caller, timed out by the router, or a connection failure. */
export function fetchError(error: unknown, where: string, signal: AbortSignal): ProviderError {
  if (error instanceof ProviderError) return error;
  if (signal.aborted) {
    const typed = toProviderError(error, where, signal);
    return typed.failure === "timeout" ? typed : new ProviderError("aborted", `${where}: aborted`);
  }
  if (error instanceof TypeError) {
    return new ProviderError("connection", `${where}: connection failed`, undefined, { cause: error });
  }
  return toProviderError(error, where, signal);
}

/** Reads a JSON body, turning a malformed one into a retryable server failure. */
export async function readJson(response: Response, where: string, signal: AbortSignal): Promise<unknown> {
  let text: string;
  try {
    text = await response.text();
  } catch (error: unknown) {
    throw fetchError(error, where, signal);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError("server", `${where}: the response body is not JSON`);
  }
}

/** Parses a JSON error body and picks a message out of it, or returns the raw text cut short. */
export function errorMessage(body: string, pick: (parsed: Record<string, unknown>) => unknown): string {
  try {
    const parsed: unknown = JSON.parse(body);
    if (parsed && typeof parsed === "object") {
      const message = pick(parsed as Record<string, unknown>);
      if (typeof message === "string") return message;
    }
  } catch {
    // not JSON: the text itself
  }
  return body.slice(0, 200);
}

/** One server-sent event: its `event:` name (if any) and its joined `data:` lines. */
export interface SseEvent {
  event?: string;
  data: string;
}

/** Server-sent events of a response body, in order (LF or CRLF line ends, comments skipped). */
export async function* sseEvents(
  response: Response,
  where: string,
  signal: AbortSignal,
): AsyncGenerator<SseEvent> {
  if (!response.body) throw new ProviderError("server", `${where}: no response body`);
  const decoder = new TextDecoder();
  const reader = response.body.getReader();
  let buffer = "";
  let event: string | undefined;
  let data: string[] = [];
  try {
    for (;;) {
      const chunk = await reader.read().catch((error: unknown) => {
        throw fetchError(error, where, signal);
      });
      if (chunk.done) break;
      buffer += decoder.decode(chunk.value, { stream: true });
      let newline = buffer.indexOf("\n");
      while (newline >= 0) {
        const line = buffer.slice(0, newline).replace(/\r$/, "");
        buffer = buffer.slice(newline + 1);
        newline = buffer.indexOf("\n");
        if (line === "") {
          if (data.length > 0)
            yield event === undefined ? { data: data.join("\n") } : { event, data: data.join("\n") };
          event = undefined;
          data = [];
        } else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
        else if (line.startsWith("event:")) event = line.slice(6).trim();
      }
    }
    if (data.length > 0)
      yield event === undefined ? { data: data.join("\n") } : { event, data: data.join("\n") };
  } finally {
    await reader.cancel().catch(() => undefined);
  }
}

/** Parses one event's JSON data; malformed data is a cut stream (retryable). */
export function eventJson(event: SseEvent, where: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(event.data);
    if (value && typeof value === "object") return value as Record<string, unknown>;
  } catch {
    // reported below
  }
  throw new ProviderError("stream_cut", `${where}: malformed stream event`);
}
