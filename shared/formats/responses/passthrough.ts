import { SseParser } from "../sse.ts";

/**
 * The pool's answer to a Responses request whose model has no endpoint serving `/v1/responses`: this
 * status with {@link responsesModeHeader} set to `translate`, before any upstream call, so the edge
 * answers it through chat completions instead.
 */
export const translateStatus = 421;
/** The header that carries how the pool answered a Responses request (`translate` or `passthrough`). */
export const responsesModeHeader = "x-tiergate-responses";

/**
 * The pool's status when the response store (Postgres) is down, with the error body: not a 5xx, which
 * the edge would take for a failed region. The edge answers it as a 503.
 */
export const storeUnavailableStatus = 424;

/** Token usage of a Responses API answer. */
export interface ResponsesUsage {
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
}

/** Event types sent before any output: a passthrough stream is not committed while only these came. */
const preambleEvents = new Set(["response.created", "response.in_progress", "response.queued"]);
/** Event types that end a Responses stream, carrying the final response object. */
const terminalEvents = new Set(["response.completed", "response.incomplete", "response.failed"]);

function numberOr0(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) ? value : 0;
}

/** The usage of a Responses API response object (zeros for what it lacks; null without `usage`). */
export function usageOfResponse(response: unknown): ResponsesUsage | null {
  const usage = (response as { usage?: unknown } | null)?.usage;
  if (!usage || typeof usage !== "object") return null;
  const fields = usage as {
    input_tokens?: unknown;
    output_tokens?: unknown;
    input_tokens_details?: { cached_tokens?: unknown } | null;
  };
  return {
    inputTokens: numberOr0(fields.input_tokens),
    outputTokens: numberOr0(fields.output_tokens),
    cachedTokens: numberOr0(fields.input_tokens_details?.cached_tokens),
  };
}

/** What a chunk of a Responses stream showed. */
export type WatchVerdict = "output" | "preamble" | "malformed";

/**
 * Watches a Responses API event stream as it is relayed unchanged: when the first output event came
 * (the commit point), whether a terminal event ended it, and the final response's usage and text size.
 */
export class ResponsesStreamWatcher {
  private readonly parser = new SseParser();
  /** The final response object's status (`completed`, `incomplete`, `failed`) once it arrived. */
  terminal: string | null = null;
  usage: ResponsesUsage | null = null;
  /** Characters of output text seen in deltas. */
  textChars = 0;
  /** The final response object, once a terminal event carried it. */
  finalResponse: Record<string, unknown> | null = null;

  /** Reads the events these bytes completed. */
  push(bytes: Uint8Array): WatchVerdict {
    let verdict: WatchVerdict = "preamble";
    for (const data of this.parser.push(bytes)) {
      let event: { type?: unknown; delta?: unknown; response?: unknown };
      try {
        event = JSON.parse(data) as typeof event;
      } catch {
        return "malformed";
      }
      if (typeof event.type !== "string") return "malformed";
      if (!preambleEvents.has(event.type)) verdict = "output";
      if (event.type === "response.output_text.delta" && typeof event.delta === "string") {
        this.textChars += event.delta.length;
      }
      if (terminalEvents.has(event.type) && event.response && typeof event.response === "object") {
        this.finalResponse = event.response as Record<string, unknown>;
        this.terminal = String(this.finalResponse.status ?? event.type.slice("response.".length));
        this.usage = usageOfResponse(event.response);
      }
    }
    return verdict;
  }
}
