import type { FieldTable } from "../native/field-rules.ts";
import { nativeBase } from "../native/native-fields.ts";

/**
 * Bedrock Converse: the native defaults (`top_k` in `additionalModelRequestFields`); images only as
 * png/jpeg/gif/webp data: URLs; no n, logprobs, response_format, seed or penalties.
 */
export const bedrockFields: FieldTable = { ...nativeBase };
