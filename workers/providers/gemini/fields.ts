import type { FieldTable } from "../native/field-rules.ts";
import { nativeBase } from "../native/native-fields.ts";

/**
 * Gemini generateContent: `n` is `candidateCount` (one candidate only when streamed), seed and penalties
 * have equivalents, `response_format` becomes `responseMimeType` + `responseJsonSchema`; images only
 * as data: URLs; no logprobs or logit_bias.
 */
export const geminiFields: FieldTable = {
  ...nativeBase,
  n: { whole: "pass", streamed: "refuse" },
  response_format: "pass",
  seed: "pass",
  presence_penalty: "pass",
  frequency_penalty: "pass",
};
