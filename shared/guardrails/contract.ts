import { type Schema, Validator } from "@cfworker/json-schema";
import { z } from "zod";
import { type ChatMessage, messageText } from "../schemas/chat.ts";

/**
 * What a tenant's or key's requests must hold: a JSON Schema (draft 2020-12) for `metadata`, a cap on
 * the total message text, the roles and content-part types allowed.
 */
export const inputContractSchema = z.object({
  metadataSchema: z.record(z.string(), z.unknown()).optional(),
  maxContentChars: z.number().int().positive().optional(),
  allowedRoles: z
    .array(z.enum(["system", "developer", "user", "assistant", "tool", "function"]))
    .min(1)
    .optional(),
  allowedContentParts: z
    .array(z.enum(["text", "image_url", "input_audio", "file", "refusal"]))
    .min(1)
    .optional(),
});
export type InputContract = z.infer<typeof inputContractSchema>;

/** The rules a contract checks, as counted in metrics and events. */
export type ContractRule =
  | "metadata_schema"
  | "max_content_chars"
  | "allowed_roles"
  | "allowed_content_parts";

/** One broken rule: `param` names the offending field (`metadata.record_type`, `messages[2].role`). */
export interface ContractViolation {
  rule: ContractRule;
  param: string;
  message: string;
}

/** Compiled validators, by the schema's JSON text: compiled once per isolate, bounded. */
const compiled = new Map<string, Validator>();
const maxCompiled = 256;

function validatorFor(schema: Record<string, unknown>): Validator {
  const text = JSON.stringify(schema);
  let validator = compiled.get(text);
  if (!validator) {
    if (compiled.size >= maxCompiled) compiled.clear();
    validator = new Validator(schema as Schema, "2020-12", false);
    compiled.set(text, validator);
  }
  return validator;
}

/** `#/a/b` (a JSON pointer from the validator) as `metadata.a.b`. */
function paramOf(pointer: string, missing?: string): string {
  const path = pointer
    .replace(/^#\/?/, "")
    .split("/")
    .filter(Boolean)
    .map((p) => p.replace(/~1/g, "/").replace(/~0/g, "~"));
  if (missing) path.push(missing);
  return ["metadata", ...path].join(".");
}

function metadataViolation(schema: Record<string, unknown>, metadata: unknown): ContractViolation | null {
  const result = validatorFor(schema).validate(metadata ?? {});
  if (result.valid) return null;
  // The deepest error names the field best; `required` errors name the missing property.
  const errors = [...result.errors].sort((a, b) => b.instanceLocation.length - a.instanceLocation.length);
  const required = errors.find((e) => e.keyword === "required");
  const error =
    required ?? errors.find((e) => !["properties", "allOf", "$ref"].includes(e.keyword)) ?? errors[0];
  if (!error) return { rule: "metadata_schema", param: "metadata", message: "metadata breaks the contract" };
  const missing = required ? /"([^"]+)"/.exec(required.error)?.[1] : undefined;
  return {
    rule: "metadata_schema",
    param: paramOf(error.instanceLocation, missing),
    message: `metadata breaks the contract: ${error.error}`,
  };
}

function messageViolation(
  contract: InputContract,
  messages: readonly ChatMessage[],
): ContractViolation | null {
  let total = 0;
  for (const [i, m] of messages.entries()) {
    if (contract.allowedRoles && !contract.allowedRoles.includes(m.role)) {
      return {
        rule: "allowed_roles",
        param: `messages[${i}].role`,
        message: `role "${m.role}" is not allowed; allowed: ${contract.allowedRoles.join(", ")}`,
      };
    }
    if (contract.allowedContentParts && Array.isArray(m.content)) {
      const j = m.content.findIndex((p) => !contract.allowedContentParts?.includes(p.type));
      if (j >= 0) {
        return {
          rule: "allowed_content_parts",
          param: `messages[${i}].content[${j}].type`,
          message: `content part "${m.content[j]?.type}" is not allowed; allowed: ${contract.allowedContentParts.join(", ")}`,
        };
      }
    }
    total += messageText(m).length;
  }
  if (contract.maxContentChars !== undefined && total > contract.maxContentChars) {
    return {
      rule: "max_content_chars",
      param: "messages",
      message: `total message content is ${total} characters; the contract allows ${contract.maxContentChars}`,
    };
  }
  return null;
}

/** The first rule of `contract` the request breaks, or null. */
export function checkContract(
  contract: InputContract,
  request: { messages: readonly ChatMessage[]; metadata?: Record<string, string> | null | undefined },
): ContractViolation | null {
  const byMessages = messageViolation(contract, request.messages);
  if (byMessages) return byMessages;
  return contract.metadataSchema ? metadataViolation(contract.metadataSchema, request.metadata) : null;
}

const jsonTypes = z.enum(["object", "array", "string", "number", "integer", "boolean", "null"]);
const count = z.number().int().nonnegative();
const pattern = z.string().refine((p) => {
  try {
    new RegExp(p, "u");
    return true;
  } catch {
    return false;
  }
}, "is not a valid regular expression");

/** The shapes of the common keywords (the validator itself trusts its schema): enough to catch typos. */
const keywordsSchema: z.ZodType = z.lazy(() =>
  z.looseObject({
    type: z.union([jsonTypes, z.array(jsonTypes).min(1)]).optional(),
    required: z.array(z.string()).optional(),
    enum: z.array(z.unknown()).min(1).optional(),
    properties: z.record(z.string(), z.union([keywordsSchema, z.boolean()])).optional(),
    additionalProperties: z.union([keywordsSchema, z.boolean()]).optional(),
    items: z.union([keywordsSchema, z.boolean()]).optional(),
    pattern: pattern.optional(),
    format: z.string().optional(),
    minLength: count.optional(),
    maxLength: count.optional(),
    minProperties: count.optional(),
    maxProperties: count.optional(),
    minimum: z.number().optional(),
    maximum: z.number().optional(),
    allOf: z.array(keywordsSchema).optional(),
    anyOf: z.array(keywordsSchema).optional(),
    oneOf: z.array(keywordsSchema).optional(),
  }),
);

/** Whether a JSON Schema is well-formed and compiles (checked before it is stored). The problem, or null. */
export function schemaProblem(schema: Record<string, unknown>): string | null {
  const shape = keywordsSchema.safeParse(schema);
  if (!shape.success) {
    return shape.error.issues.map((i) => `${i.path.join(".") || "(root)"} ${i.message}`).join("; ");
  }
  try {
    new Validator(schema as Schema, "2020-12", false).validate({});
    return null;
  } catch (error: unknown) {
    return error instanceof Error ? error.message : String(error);
  }
}
