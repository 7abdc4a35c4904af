import type { FieldTable } from "../native/field-rules.ts";
import { nativeBase } from "../native/native-fields.ts";

/**
 * Anthropic Messages: `user` becomes `metadata.user_id`, `parallel_tool_calls: false` becomes
 * `disable_parallel_tool_use`, images by URL become url sources; no n, logprobs or response_format.
 */
export const anthropicFields: FieldTable = {
  ...nativeBase,
  user: "pass",
  parallel_tool_calls: "pass",
  "messages[].content[].image_url": "pass",
};

/** `anthropic-version` 2026-10-21 removed the sampling parameters (sending one is a 400): dropped. */
const withoutSampling: FieldTable = { ...anthropicFields, temperature: "drop", top_p: "drop", top_k: "drop" };

/** The rules of an endpoint speaking `apiVersion`. */
export function anthropicFieldsFor(apiVersion: string): FieldTable {
  return apiVersion < "2026-10-21" ? anthropicFields : withoutSampling;
}
