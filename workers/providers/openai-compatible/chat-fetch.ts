import type { ChatCompletionResponse } from "../../../shared/schemas/chat.ts";
import type { ChatCall } from "../types.ts";
import { failureOfStatus, ProviderError, toProviderError } from "./errors.ts";

/**
 * `{baseURL}/chat/completions`, joined as the SDK joins it (one slash between).
 */
function completionsUrl(baseURL: string): string {
  return `${baseURL.endsWith("/") ? baseURL.slice(0, -1) : baseURL}/chat/completions`;
}

/** A failed fetch (no response): aborted by the caller or the router's attempt timeout, else the connection. */
function sendError(error: unknown, where: string, signal: AbortSignal): ProviderError {
  if (!signal.aborted) {
    return new ProviderError("connection", `${where}: connection failed`, undefined, { cause: error });
  }
  const typed = toProviderError(error, where, signal);
  return typed.failure === "timeout"
    ? typed
    : new ProviderError("aborted", `${where}: aborted`, undefined, { cause: error });
}

/**
 * A non-streamed chat completion with one plain `fetch`: the wire call the `openai` SDK makes (POST
 * JSON, `Authorization: Bearer`), without its per-request header merging, request logging objects and
 * response wrappers, which cost the pool more CPU than the call itself for a small answer. Failures
 * map as the SDK's do (errors.ts): the status → failure kind, a fetch that throws → connection (or
 * timeout/aborted by the signal), a body that is cut or not JSON → stream_cut.
 */
export async function fetchChatCompletion(
  call: ChatCall,
  body: Record<string, unknown>,
  where: string,
): Promise<ChatCompletionResponse> {
  const { endpoint, signal } = call;
  let response: Response;
  try {
    response = await fetch(completionsUrl(endpoint.baseURL), {
      method: "POST",
      headers: {
        "content-type": "application/json",
        accept: "application/json",
        authorization: `Bearer ${endpoint.apiKey || "none"}`,
      },
      body: JSON.stringify(body),
      signal,
    });
  } catch (error: unknown) {
    throw sendError(error, where, signal);
  }
  if (!response.ok) {
    await response.body?.cancel().catch(() => undefined);
    throw new ProviderError(
      failureOfStatus(response.status),
      `${where}: HTTP ${response.status}`,
      response.status,
    );
  }
  try {
    return JSON.parse(await response.text()) as ChatCompletionResponse;
  } catch (error: unknown) {
    throw toProviderError(error, where, signal);
  }
}
