import { eq } from "drizzle-orm";
import type { VerifiedKey } from "../../shared/schemas/keys.ts";
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
  constructor(private readonly db: Database) {}

  async findByHash(keyHash: string): Promise<VerifiedKey | null> {
    const rows = await withPostgres(() =>
      this.db.select().from(apiKeys).where(eq(apiKeys.keyHash, keyHash)).limit(1),
    );
    const row = rows[0];
    if (!row) return null;
    const data = await new ResponseDataSettingsService(this.db).effective(row.tenantId, row.id);
    return {
      ...data,
      keyId: row.id,
      tenantId: row.tenantId,
      status: row.status,
      allowedModels: row.allowedModels,
      rateLimitPerMinute: row.rateLimitPerMinute,
      cacheTtlSeconds: row.cacheTtlSeconds,
    };
  }
}
