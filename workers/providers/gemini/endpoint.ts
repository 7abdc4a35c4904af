import { errorMessage } from "../native/http.ts";
import type { EndpointSpec } from "../types.ts";

/**
 * The Google Gemini provider (Generative Language API): `POST {baseURL}/v1beta/models/{model}:generateContent`
 * and `:streamGenerateContent?alt=sse`, authenticated with the `x-goog-api-key` header.
 */
export const geminiProvider = {
  kind: "gemini",
  capabilities: ["chat"],
  defaultBaseURL: "https://generativelanguage.googleapis.com",
  defaultVersion: "v1beta",
} as const;

/** The URL of a model method (`generateContent` or `streamGenerateContent`). */
export function geminiURL(
  endpoint: EndpointSpec,
  method: "generateContent" | "streamGenerateContent",
): string {
  const root = (endpoint.baseURL || geminiProvider.defaultBaseURL).replace(/\/+$/, "");
  const version = endpoint.options?.apiVersion ?? geminiProvider.defaultVersion;
  const model = endpoint.model.replace(/^models\//, "");
  const query = method === "streamGenerateContent" ? "?alt=sse" : "";
  return `${root}/${version}/models/${encodeURIComponent(model)}:${method}${query}`;
}

/** The documented key header (the key never goes in the URL, so it stays out of logs). */
export function geminiHeaders(endpoint: EndpointSpec): Record<string, string> {
  return { "x-goog-api-key": endpoint.apiKey };
}

/** `{error:{code, message, status}}` (google.rpc.Status) as a short message. */
export function describeGeminiError(_status: number, body: string): string {
  return errorMessage(body, (parsed) => {
    const error = parsed.error as { status?: unknown; message?: unknown } | undefined;
    return error ? `${String(error.status)}: ${String(error.message)}` : undefined;
  });
}
