import { z } from "zod";
import { inputContractSchema } from "../guardrails/contract.ts";
import { guardrailPolicySchema } from "../guardrails/policy.ts";
import { payloadLoggingSettingsSchema, semanticCacheSettingsSchema } from "./semantic-cache.ts";
import { keyBudgetsSchema, rateLimitModeSchema } from "./spend.ts";

/** What the pool tells the edge about an API key (looked up by its sha256). */
export const verifiedKeySchema = z.object({
  keyId: z.string(),
  tenantId: z.string(),
  status: z.enum(["active", "revoked"]),
  allowedModels: z.array(z.string()).nullable(),
  rateLimitPerMinute: z.number().int().positive().nullable(),
  cacheTtlSeconds: z.number().int().positive().nullable(),
  /** When this secret stops working (ISO time; expiry or the end of a rotation's grace). Absent/null: never. */
  expiresAt: z.iso.datetime({ offset: true }).nullable().optional(),
  /** Guardrail policy (tenant default overridden by the key's own); absent or null: none. */
  guardrails: guardrailPolicySchema.nullable().optional(),
  /** Input contract (tenant default overridden by the key's own); absent or null: none. */
  contract: inputContractSchema.nullable().optional(),
  semanticCache: semanticCacheSettingsSchema.nullable().optional(),
  payloadLogging: payloadLoggingSettingsSchema.nullable().optional(),
  /** Spend: budgets of the key and its tenant (absent in entries cached before budgets existed). */
  budgets: keyBudgetsSchema.nullable().optional(),
  /** Tokens (prompt + completion) per minute; null: no token limit. */
  tokensPerMinute: z.number().int().positive().nullable().optional(),
  /** How the request limit is enforced (edge/services/rate-limiter.ts); null: `fast`. */
  rateLimitMode: rateLimitModeSchema.nullable().optional(),
});
export type VerifiedKey = z.infer<typeof verifiedKeySchema>;

export const keyVerifyRequestSchema = z.strictObject({ key_hash: z.string().regex(/^[0-9a-f]{64}$/) });
export const keyVerifyResponseSchema = z.object({ key: verifiedKeySchema.nullable() });

/**
 * The shape of every API key the gateway issues (workers/db/api-keys.ts): `tg_` and 32 base62
 * characters. A bearer token of any other shape is refused without a lookup.
 */
export const apiKeyPattern = /^tg_[0-9A-Za-z]{32}$/;

/** The edge's Redis entry caching what a key hash belongs to; revocation deletes it. */
export function keyCacheEntry(keyHash: string): string {
  return `tg:key:${keyHash}`;
}
