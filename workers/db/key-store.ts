import { eq, or } from "drizzle-orm";
import type { VerifiedKey } from "../../shared/schemas/keys.ts";
import { secretExpiry } from "../admin/key-expiry.ts";
import { PostgresGuardrailPolicyStore } from "../guardrails/policy-store.ts";
import { ResponseDataSettingsService } from "../semantic-cache/settings.ts";
import { type Database, withPostgres } from "./client.ts";
import { apiKeys } from "./schema.ts";

/** Looks keys up by their sha256, for the edge's verification call. */
export interface KeyStore {
  /** The key with this hash (any status), or null when there is none. DependencyError when Postgres fails. */
  findByHash(keyHash: string): Promise<VerifiedKey | null>;
}

/** The KeyStore over Postgres `api_keys`. */
export class PostgresKeyStore implements KeyStore {
  readonly #guardrails: PostgresGuardrailPolicyStore;
  constructor(private readonly db: Database) {
    this.#guardrails = new PostgresGuardrailPolicyStore(db);
  }

  async findByHash(keyHash: string): Promise<VerifiedKey | null> {
    const rows = await withPostgres(() =>
      this.db
        .select()
        .from(apiKeys)
        .where(or(eq(apiKeys.keyHash, keyHash), eq(apiKeys.previousKeyHash, keyHash)))
        .limit(1),
    );
    const row = rows[0];
    if (!row) return null;
    // Per-feature settings live in their own tables; read them side by side.
    const [data, guardrails] = await Promise.all([
      new ResponseDataSettingsService(this.db).effective(row.tenantId, row.id),
      this.#guardrails.effective(row.tenantId, row.id),
    ]);
    return {
      ...data,
      ...guardrails,
      keyId: row.id,
      tenantId: row.tenantId,
      status: row.status,
      allowedModels: row.allowedModels,
      rateLimitPerMinute: row.rateLimitPerMinute,
      cacheTtlSeconds: row.cacheTtlSeconds,
      expiresAt: secretExpiry(row, keyHash),
    };
  }
}
