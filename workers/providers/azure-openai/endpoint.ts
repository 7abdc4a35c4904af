import { AzureOpenAI } from "openai";
import type { EndpointSpec } from "../types.ts";

/**
 * The Azure OpenAI provider: `POST {resource}/openai/deployments/{deployment}/chat/completions
 * ?api-version=...` with the `api-key` header. `baseURL` is the resource endpoint
 * (https://NAME.openai.azure.com), `model` the deployment name, `options.apiVersion` the API version.
 * The body is OpenAI's, so the OpenAI SDK's Azure client carries it and its errors map as OpenAI's do.
 */
export const azureOpenAIProvider = {
  kind: "azure-openai",
  capabilities: ["chat", "embeddings"],
  /** The latest GA data-plane version when the endpoint names none. */
  defaultApiVersion: "2024-10-21",
} as const;

const clients = new Map<string, AzureOpenAI>();

/** The SDK client of an endpoint (one per resource, deployment, version and key). SDK retries are off. */
export function azureClientFor(endpoint: EndpointSpec): AzureOpenAI {
  const apiVersion = endpoint.options?.apiVersion ?? azureOpenAIProvider.defaultApiVersion;
  const key = [endpoint.baseURL, endpoint.model, apiVersion, endpoint.apiKey].join("\u0000");
  let client = clients.get(key);
  if (!client) {
    client = new AzureOpenAI({
      endpoint: endpoint.baseURL.replace(/\/+$/, ""),
      deployment: endpoint.model,
      apiKey: endpoint.apiKey,
      apiVersion,
      maxRetries: 0,
    });
    clients.set(key, client);
  }
  return client;
}
