import OpenAI from "openai";
import type { EndpointSpec } from "../types.ts";

/**
 * The OpenAI-compatible provider: vLLM in production, the local model server in tests, and equally
 * llama.cpp server, Ollama (`/v1`) or OpenAI itself. An endpoint is only data (base URL, key, model);
 * one SDK client per distinct base URL and key is kept for connection reuse.
 */
export const openAICompatibleProvider = {
  kind: "openai-compatible",
  capabilities: ["chat", "completions", "embeddings", "models", "metrics"],
} as const;

const clients = new Map<string, OpenAI>();

/** The SDK client of an endpoint. SDK retries are off: the router retries, with its own budget. */
export function clientFor(endpoint: EndpointSpec): OpenAI {
  const key = `${endpoint.baseURL}\u0000${endpoint.apiKey}`;
  let client = clients.get(key);
  if (!client) {
    client = new OpenAI({ baseURL: endpoint.baseURL, apiKey: endpoint.apiKey || "none", maxRetries: 0 });
    clients.set(key, client);
  }
  return client;
}

/** vLLM's sampling parameters beyond OpenAI's; the SDK sends unknown body fields as they are. */
export const vllmExtraParams = ["top_k", "min_p", "repetition_penalty"] as const;
