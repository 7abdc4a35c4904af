import { AwsClient } from "aws4fetch";
import { errorMessage } from "../native/http.ts";
import { ProviderError } from "../openai-compatible/errors.ts";
import type { EndpointSpec } from "../types.ts";

/**
 * The AWS Bedrock Converse provider: `POST {baseURL}/model/{modelId}/converse` and `/converse-stream`,
 * signed with SigV4 (service `bedrock`). `apiKey` holds `ACCESS_KEY_ID:SECRET_ACCESS_KEY[:SESSION_TOKEN]`;
 * `options.region` the region; `baseURL` defaults to `https://bedrock-runtime.{region}.amazonaws.com`.
 */
export const bedrockProvider = {
  kind: "bedrock",
  capabilities: ["chat"],
  signingService: "bedrock",
  defaultRegion: "us-east-1",
} as const;

const clients = new Map<string, AwsClient>();

function regionOf(endpoint: EndpointSpec): string {
  return endpoint.options?.region ?? bedrockProvider.defaultRegion;
}

/** The URL of `converse` or `converse-stream` for the endpoint's model id (path-encoded: ids contain `:`). */
export function bedrockURL(endpoint: EndpointSpec, method: "converse" | "converse-stream"): string {
  const root = (endpoint.baseURL || `https://bedrock-runtime.${regionOf(endpoint)}.amazonaws.com`).replace(
    /\/+$/,
    "",
  );
  return `${root}/model/${encodeURIComponent(endpoint.model)}/${method}`;
}

/** The SigV4 signer of an endpoint. Its own retries are off: the router retries. */
export function bedrockSigner(endpoint: EndpointSpec): AwsClient {
  const key = `${endpoint.apiKey}\u0000${regionOf(endpoint)}`;
  let client = clients.get(key);
  if (!client) {
    const [accessKeyId, secretAccessKey, sessionToken] = endpoint.apiKey.split(":");
    if (!accessKeyId || !secretAccessKey) {
      throw new ProviderError("misconfigured", `bedrock ${endpoint.id}: apiKey must be ACCESS_KEY_ID:SECRET`);
    }
    client = new AwsClient({
      accessKeyId,
      secretAccessKey,
      ...(sessionToken ? { sessionToken } : {}),
      service: bedrockProvider.signingService,
      region: regionOf(endpoint),
      retries: 0,
    });
    clients.set(key, client);
  }
  return client;
}

/** `x-amzn-ErrorType` plus the `{message}` body, as a short message. */
export function describeBedrockError(_status: number, body: string, headers: Headers): string {
  const type = (headers.get("x-amzn-errortype") ?? "").split(":")[0] ?? "";
  const message = errorMessage(body, (parsed) => parsed.message ?? parsed.Message);
  return type ? `${type}: ${message}` : message;
}
