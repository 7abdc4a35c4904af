import { and, eq, inArray, sql } from "drizzle-orm";
import type { PayloadLoggingSettings, SemanticCacheSettings } from "../../shared/schemas/semantic-cache.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { type ResponseDataSettingsRow, responseDataSettings } from "../db/schema.ts";

/** The two per-key settings the edge learns with a key: semantic cache and payload logging. */
export interface ResponseDataSettings {
  semanticCache: SemanticCacheSettings;
  payloadLogging: PayloadLoggingSettings;
}

/** A change to a tenant's default (no `keyId`) or one key's override; `null` clears a field (inherit). */
export interface ResponseDataChange {
  tenantId: string;
  keyId?: string | undefined;
  semanticCacheEnabled?: boolean | null;
  semanticCacheThreshold?: number | null;
  payloadLoggingEnabled?: boolean | null;
  payloadLogRetentionDays?: number | null;
}

type Fields = Pick<
  ResponseDataSettingsRow,
  "semanticCacheEnabled" | "semanticCacheThreshold" | "payloadLoggingEnabled" | "payloadLogRetentionDays"
>;

/** The key's row over the tenant's: a key's non-null field wins; both null is the default (off). */
export function mergeSettings(tenant: Fields | undefined, key: Fields | undefined): ResponseDataSettings {
  const pick = <K extends keyof Fields>(field: K): Fields[K] | null =>
    key?.[field] ?? tenant?.[field] ?? null;
  return {
    semanticCache: {
      enabled: pick("semanticCacheEnabled") === true,
      threshold: pick("semanticCacheThreshold"),
    },
    payloadLogging: {
      enabled: pick("payloadLoggingEnabled") === true,
      retentionDays: pick("payloadLogRetentionDays"),
    },
  };
}

/**
 * The service behind `npm run semantic-cache` (and, later, the admin API): reads and changes the
 * per-tenant and per-key settings in Postgres `response_data_settings`. The edge picks a change up
 * when its cached key lookup expires (KEY_CACHE_TTL_SECONDS).
 */
export class ResponseDataSettingsService {
  constructor(private readonly db: Database) {}

  /** What a key (or, without one, the tenant default) runs with. */
  async effective(tenantId: string, keyId?: string): Promise<ResponseDataSettings> {
    const ids = keyId ? ["", keyId] : [""];
    const rows = await withPostgres(() =>
      this.db
        .select()
        .from(responseDataSettings)
        .where(and(eq(responseDataSettings.tenantId, tenantId), inArray(responseDataSettings.keyId, ids))),
    );
    const tenant = rows.find((r) => r.keyId === "");
    const key = keyId ? rows.find((r) => r.keyId === keyId) : undefined;
    return mergeSettings(tenant, key);
  }

  /** The stored rows of a tenant (its default first, then keys). */
  async list(tenantId: string): Promise<ResponseDataSettingsRow[]> {
    return withPostgres(() =>
      this.db
        .select()
        .from(responseDataSettings)
        .where(eq(responseDataSettings.tenantId, tenantId))
        .orderBy(responseDataSettings.keyId),
    );
  }

  /** Sets the named fields (others untouched); creates the row when there is none. */
  async change(change: ResponseDataChange): Promise<void> {
    const fields: Partial<Fields> = {};
    if (change.semanticCacheEnabled !== undefined) fields.semanticCacheEnabled = change.semanticCacheEnabled;
    if (change.semanticCacheThreshold !== undefined)
      fields.semanticCacheThreshold = change.semanticCacheThreshold;
    if (change.payloadLoggingEnabled !== undefined)
      fields.payloadLoggingEnabled = change.payloadLoggingEnabled;
    if (change.payloadLogRetentionDays !== undefined)
      fields.payloadLogRetentionDays = change.payloadLogRetentionDays;
    await withPostgres(() =>
      this.db
        .insert(responseDataSettings)
        .values({ tenantId: change.tenantId, keyId: change.keyId ?? "", ...fields })
        .onConflictDoUpdate({
          target: [responseDataSettings.tenantId, responseDataSettings.keyId],
          set: { ...fields, updatedAt: sql`now()` },
        }),
    );
  }
}
