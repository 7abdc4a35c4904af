import { z } from "@hono/zod-openapi";
import { adminRoles } from "../admin/rbac.ts";

// The admin API's wire shapes (snake_case like OpenAI's), shared by the edge (validation, its OpenAPI
// document) and the pool (which does the work).

const id = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, "letters, digits, '_', '.', '-' (at most 128)");
const isoTime = z.iso.datetime({ offset: true });

export const tenantParams = z.object({ tenant: id.openapi({ param: { name: "tenant", in: "path" } }) });
export const keyParams = tenantParams.extend({
  key_id: id.openapi({ param: { name: "key_id", in: "path" } }),
});
export const adminKeyParams = z.object({
  admin_key_id: id.openapi({ param: { name: "admin_key_id", in: "path" } }),
});

export const tenantSchema = z
  .object({ id: z.string(), name: z.string(), created_at: z.string() })
  .openapi("AdminTenant");
export const tenantCreateSchema = z
  .strictObject({ id, name: z.string().min(1).max(200).optional() })
  .openapi("AdminTenantCreate");
export const tenantListSchema = z.object({ data: z.array(tenantSchema) });

export const keySchema = z
  .object({
    id: z.string(),
    tenant_id: z.string(),
    prefix: z.string(),
    name: z.string(),
    status: z.enum(["active", "revoked"]),
    rate_limit_per_minute: z.number().int(),
    allowed_models: z.array(z.string()).nullable(),
    cache_ttl_seconds: z.number().int().nullable(),
    created_at: z.string(),
    revoked_at: z.string().nullable(),
    expires_at: z.string().nullable(),
    rotated_at: z.string().nullable(),
    previous_key_expires_at: z.string().nullable(),
  })
  .openapi("AdminKey");
export const keyListSchema = z.object({ data: z.array(keySchema) });

const keySettings = {
  rate_limit_per_minute: z.number().int().positive().max(1_000_000).optional(),
  allowed_models: z.array(z.string().min(1).max(256)).max(256).nullable().optional(),
  cache_ttl_seconds: z.number().int().positive().max(31_536_000).nullable().optional(),
  /** Absolute expiry; null clears it. */
  expires_at: isoTime.nullable().optional(),
};
export const keyCreateSchema = z
  .strictObject({
    name: z.string().min(1).max(200).default("admin-api"),
    ...keySettings,
    /** Relative expiry, seconds from now (instead of `expires_at`). */
    expires_in_seconds: z.number().int().positive().max(315_360_000).optional(),
  })
  .openapi("AdminKeyCreate");
export const keyUpdateSchema = z.strictObject(keySettings).openapi("AdminKeyUpdate");
export const keyRotateSchema = z
  .strictObject({
    /** How long the old secret keeps working (0: it stops at once). */
    grace_seconds: z.number().int().min(0).max(604_800).default(0),
  })
  .openapi("AdminKeyRotate");
/** The plaintext `key` appears only in this answer (creation, rotation). */
export const keyWithSecretSchema = z.object({ key: z.string(), record: keySchema }).openapi("AdminKeySecret");

export const adminKeySchema = z
  .object({
    id: z.string(),
    prefix: z.string(),
    name: z.string(),
    role: z.enum(adminRoles),
    tenant_id: z.string().nullable(),
    status: z.enum(["active", "revoked"]),
    created_by: z.string(),
    created_at: z.string(),
    expires_at: z.string().nullable(),
    revoked_at: z.string().nullable(),
  })
  .openapi("AdminCredential");
export const adminKeyListSchema = z.object({ data: z.array(adminKeySchema) });
export const adminKeyCreateSchema = z
  .strictObject({
    name: z.string().min(1).max(200),
    role: z.enum(adminRoles),
    tenant_id: id.nullable().optional(),
    expires_in_seconds: z.number().int().positive().max(315_360_000).optional(),
  })
  .openapi("AdminCredentialCreate");
export const adminKeyWithSecretSchema = z.object({ key: z.string(), record: adminKeySchema });

export const whoamiSchema = z
  .object({ id: z.string(), name: z.string(), role: z.enum(adminRoles), tenant_id: z.string().nullable() })
  .openapi("AdminWhoami");

export const usageQuerySchema = z.strictObject({
  /** ISO times; default the last 24 hours. */
  from: isoTime.optional(),
  to: isoTime.optional(),
  key_id: id.optional(),
  model: z.string().min(1).max(256).optional(),
  /** Group rows by these (comma-separated): tenant, key, model, day, hour. */
  group_by: z
    .string()
    .regex(/^(tenant|key|model|day|hour)(,(tenant|key|model|day|hour))*$/)
    .optional(),
});
export const usageRowSchema = z
  .object({
    tenant: z.string().optional(),
    key_id: z.string().optional(),
    model: z.string().optional(),
    period: z.string().optional(),
    requests: z.number(),
    errors: z.number(),
    cache_hits: z.number(),
    prompt_tokens: z.number(),
    completion_tokens: z.number(),
  })
  .catchall(z.union([z.number(), z.string()]))
  .openapi("AdminUsageRow");
export const usageSchema = z.object({ from: z.string(), to: z.string(), data: z.array(usageRowSchema) });

/** GET /tenants/{tenant}/payloads: the tenant's logged prompts and answers (keys with payload logging on). */
export const payloadQuerySchema = z.strictObject({
  limit: z.coerce.number().int().positive().max(1000).default(100),
  request_id: z.string().min(1).max(200).optional(),
});
export const payloadListSchema = z.object({
  data: z.array(
    z.object({
      ts: z.string(),
      request_id: z.string(),
      key_id: z.string(),
      route: z.string(),
      /** The request body as the pool received it (after guardrail redaction at the edge). */
      request: z.string(),
      response: z.string(),
    }),
  ),
});

export const auditQuerySchema = z.strictObject({
  limit: z.coerce.number().int().positive().max(500).default(100),
  before_id: z.coerce.number().int().positive().optional(),
});
export const auditRowSchema = z
  .object({
    id: z.number(),
    at: z.string(),
    actor: z.string(),
    actor_role: z.string(),
    tenant_id: z.string().nullable(),
    action: z.string(),
    target: z.string(),
    before: z.unknown(),
    after: z.unknown(),
    request_id: z.string().nullable(),
  })
  .openapi("AdminAuditRow");
export const auditListSchema = z.object({ data: z.array(auditRowSchema) });

const tier = z.string().min(1).max(64);
const reason = z.string().min(1).max(1000);
export const promoteSchema = z.strictObject({ tier, version: z.string().min(1).max(256), reason });
export const rollbackSchema = z.strictObject({ tier, reason });
export const pinSchema = z.strictObject({ tier, pinned: z.boolean(), reason });
export const registryListSchema = z
  .object({ source: z.string(), versions: z.array(z.record(z.string(), z.unknown())) })
  .openapi("AdminRegistry");
export const registryChangeSchema = z.record(z.string(), z.unknown());

/** The settings a key create or update body may carry. */
export type KeySettingsBody = z.infer<typeof keyUpdateSchema> & { expires_in_seconds?: number | undefined };
