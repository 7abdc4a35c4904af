import { and, eq, inArray } from "drizzle-orm";
import { type InputContract, inputContractSchema } from "../../shared/guardrails/contract.ts";
import {
  type GuardrailPolicy,
  guardrailPolicySchema,
  overridePolicy,
} from "../../shared/guardrails/policy.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { guardrailPolicies } from "../db/schema.ts";

/** The guardrail policy and input contract of one scope: a tenant's default (`keyId` null) or a key's own. */
export interface PolicyRecord {
  tenantId: string;
  keyId: string | null;
  guardrails: GuardrailPolicy | null;
  contract: InputContract | null;
}

/** What a key's requests run under: the tenant's default overridden by the key's own. */
export interface EffectiveSettings {
  guardrails: GuardrailPolicy | null;
  contract: InputContract | null;
}

/** Stores guardrail policies and contracts per tenant and key. DependencyError when Postgres fails. */
export interface GuardrailPolicyStore {
  effective(tenantId: string, keyId: string): Promise<EffectiveSettings>;
  get(tenantId: string, keyId: string | null): Promise<PolicyRecord | null>;
  put(record: PolicyRecord): Promise<void>;
  remove(tenantId: string, keyId: string | null): Promise<boolean>;
  list(tenantId: string): Promise<PolicyRecord[]>;
}

type Row = typeof guardrailPolicies.$inferSelect;

/** A stored row as a record; JSON that no longer parses is treated as absent rather than trusted. */
function toRecord(row: Row): PolicyRecord {
  const guardrails = guardrailPolicySchema.safeParse(row.guardrails);
  const contract = inputContractSchema.safeParse(row.contract);
  return {
    tenantId: row.tenantId,
    keyId: row.keyId === "" ? null : row.keyId,
    guardrails: row.guardrails !== null && guardrails.success ? guardrails.data : null,
    contract: row.contract !== null && contract.success ? contract.data : null,
  };
}

/** The store over Postgres `guardrail_policies` (key_id '' is the tenant's default). */
export class PostgresGuardrailPolicyStore implements GuardrailPolicyStore {
  constructor(private readonly db: Database) {}

  async effective(tenantId: string, keyId: string): Promise<EffectiveSettings> {
    const rows = await withPostgres(() =>
      this.db
        .select()
        .from(guardrailPolicies)
        .where(and(eq(guardrailPolicies.tenantId, tenantId), inArray(guardrailPolicies.keyId, ["", keyId]))),
    );
    const records = rows.map(toRecord);
    const tenant = records.find((r) => r.keyId === null);
    const key = records.find((r) => r.keyId === keyId);
    const contract = tenant?.contract || key?.contract ? { ...tenant?.contract, ...key?.contract } : null;
    return { guardrails: overridePolicy(tenant?.guardrails, key?.guardrails), contract };
  }

  async get(tenantId: string, keyId: string | null): Promise<PolicyRecord | null> {
    const rows = await withPostgres(() =>
      this.db
        .select()
        .from(guardrailPolicies)
        .where(and(eq(guardrailPolicies.tenantId, tenantId), eq(guardrailPolicies.keyId, keyId ?? "")))
        .limit(1),
    );
    return rows[0] ? toRecord(rows[0]) : null;
  }

  async put(record: PolicyRecord): Promise<void> {
    const values = {
      tenantId: record.tenantId,
      keyId: record.keyId ?? "",
      guardrails: record.guardrails,
      contract: record.contract,
      updatedAt: new Date(),
    };
    await withPostgres(() =>
      this.db
        .insert(guardrailPolicies)
        .values(values)
        .onConflictDoUpdate({
          target: [guardrailPolicies.tenantId, guardrailPolicies.keyId],
          set: { guardrails: values.guardrails, contract: values.contract, updatedAt: values.updatedAt },
        }),
    );
  }

  async remove(tenantId: string, keyId: string | null): Promise<boolean> {
    const rows = await withPostgres(() =>
      this.db
        .delete(guardrailPolicies)
        .where(and(eq(guardrailPolicies.tenantId, tenantId), eq(guardrailPolicies.keyId, keyId ?? "")))
        .returning({ tenantId: guardrailPolicies.tenantId }),
    );
    return rows.length > 0;
  }

  async list(tenantId: string): Promise<PolicyRecord[]> {
    const rows = await withPostgres(() =>
      this.db.select().from(guardrailPolicies).where(eq(guardrailPolicies.tenantId, tenantId)),
    );
    return rows.map(toRecord);
  }
}
