import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { anthropicProvider, anthropicVersion } from "./anthropic/endpoint.ts";
import { anthropicFieldsFor } from "./anthropic/fields.ts";
import { bedrockFields } from "./bedrock/fields.ts";
import { geminiFields } from "./gemini/fields.ts";
import { type FieldTable, judgeFields, passEverything } from "./native/field-rules.ts";
import type { EndpointSpec, ProviderKind } from "./types.ts";

/**
 * Each provider's field rules, for the README table and its check. OpenAI-compatible servers and Azure
 * OpenAI take the OpenAI body as it is (the upstream decides; its 400 comes back to the client).
 */
export const providerFieldTables: Readonly<Record<Exclude<ProviderKind, "rules">, FieldTable>> = {
  "openai-compatible": passEverything,
  "azure-openai": passEverything,
  anthropic: anthropicFieldsFor(anthropicProvider.defaultVersion),
  gemini: geminiFields,
  bedrock: bedrockFields,
};

/** The rules an endpoint applies (Anthropic's depend on the endpoint's `anthropic-version`). */
export function fieldTableOf(endpoint: EndpointSpec): FieldTable {
  if (endpoint.provider === "rules") return passEverything;
  if (endpoint.provider === "anthropic") return anthropicFieldsFor(anthropicVersion(endpoint));
  return providerFieldTables[endpoint.provider];
}

/** The fields of `request` the endpoint refuses (whole answer or stream) and those it drops. */
export function endpointFields(
  endpoint: EndpointSpec,
  request: ChatCompletionRequest,
  stream: boolean,
): { refused: string[]; dropped: string[] } {
  return judgeFields(fieldTableOf(endpoint), request, stream);
}
