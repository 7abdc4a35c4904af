import { errorMessage } from "../native/http.ts";
import type { EndpointSpec } from "../types.ts";

/**
 * The Anthropic Messages provider: `POST {baseURL}/v1/messages` with `x-api-key` and
 * `anthropic-version`. `baseURL` is the API root (https://api.anthropic.com); `model` the Claude model id.
 */
export const anthropicProvider = {
  kind: "anthropic",
  capabilities: ["chat"],
  defaultBaseURL: "https://api.anthropic.com",
  defaultVersion: "2023-06-01",
  /** Messages requires `max_tokens`; used when the client sets none. */
  defaultMaxTokens: 4096,
} as const;

/** The messages URL of an endpoint. */
export function messagesURL(endpoint: EndpointSpec): string {
  const root = (endpoint.baseURL || anthropicProvider.defaultBaseURL)
    .replace(/\/+$/, "")
    .replace(/\/v1$/, "");
  return `${root}/v1/messages`;
}

/** The endpoint's `anthropic-version`. */
export function anthropicVersion(endpoint: EndpointSpec): string {
  return endpoint.options?.apiVersion ?? anthropicProvider.defaultVersion;
}

/** The documented request headers. */
export function anthropicHeaders(endpoint: EndpointSpec): Record<string, string> {
  return {
    "x-api-key": endpoint.apiKey,
    "anthropic-version": anthropicVersion(endpoint),
  };
}

/** `{type:"error", error:{type, message}}`, with the `request-id` header, as a short message. */
export function describeAnthropicError(_status: number, body: string, headers: Headers): string {
  const message = errorMessage(body, (parsed) => {
    const error = parsed.error as { type?: unknown; message?: unknown } | undefined;
    return error && typeof error.type === "string" ? `${error.type}: ${String(error.message)}` : undefined;
  });
  const id = headers.get("request-id");
  return id ? `${message} (request-id ${id})` : message;
}
