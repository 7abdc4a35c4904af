import { type InputContract, inputContractSchema, schemaProblem } from "../../shared/guardrails/contract.ts";
import {
  type GuardrailPolicy,
  guardrailPolicySchema,
  parseGuardrailSpec,
} from "../../shared/guardrails/policy.ts";
import type { EffectiveSettings, GuardrailPolicyStore, PolicyRecord } from "./policy-store.ts";

/** A change the service refused (bad spec, bad schema, unknown key): the caller shows the message. */
export class GuardrailPolicyError extends Error {
  override readonly name = "GuardrailPolicyError";
}

/** One scope: a tenant's default, or one of its keys. */
export interface PolicyScope {
  tenantId: string;
  keyId?: string | null | undefined;
}

export interface SetPolicyInput extends PolicyScope {
  /** `email=redact,card=block,injection=block,output=on,…` merged into the stored policy. */
  spec?: string | undefined;
  /** A whole contract, replacing the stored one. */
  contract?: unknown;
}

export interface GuardrailServiceOptions {
  store: GuardrailPolicyStore;
  /** Whether the key exists and belongs to the tenant. */
  keyBelongs(tenantId: string, keyId: string): Promise<boolean>;
  /** Called after a change so cached key lookups (the edge's) are dropped; may be a no-op. */
  changed(scope: PolicyScope): Promise<void>;
}

/**
 * Manages guardrail policies and input contracts per tenant and key: the one place that validates and
 * writes them (the CLI calls it; an admin API can later). Policies reach the edge through key
 * verification, so a change applies once the edge's cached lookup is gone or expired.
 */
export class GuardrailService {
  constructor(private readonly options: GuardrailServiceOptions) {}

  /** Merges a spec into the scope's policy and/or replaces its contract; returns the stored record. */
  async set(input: SetPolicyInput): Promise<PolicyRecord> {
    const keyId = await this.checkedKey(input);
    const current = await this.options.store.get(input.tenantId, keyId);
    const guardrails =
      input.spec === undefined ? (current?.guardrails ?? null) : merge(current?.guardrails, input.spec);
    const contract =
      input.contract === undefined ? (current?.contract ?? null) : validContract(input.contract);
    const record: PolicyRecord = { tenantId: input.tenantId, keyId, guardrails, contract };
    await this.options.store.put(record);
    await this.options.changed({ tenantId: input.tenantId, keyId });
    return record;
  }

  /** The scope's own record, and for a key what its requests run under. */
  async show(scope: PolicyScope): Promise<{ own: PolicyRecord | null; effective: EffectiveSettings | null }> {
    const keyId = await this.checkedKey(scope);
    const own = await this.options.store.get(scope.tenantId, keyId);
    const effective = keyId ? await this.options.store.effective(scope.tenantId, keyId) : null;
    return { own, effective };
  }

  /** Removes the scope's policy and contract. False when there was none. */
  async clear(scope: PolicyScope): Promise<boolean> {
    const keyId = await this.checkedKey(scope);
    const removed = await this.options.store.remove(scope.tenantId, keyId);
    if (removed) await this.options.changed({ tenantId: scope.tenantId, keyId });
    return removed;
  }

  list(tenantId: string): Promise<PolicyRecord[]> {
    return this.options.store.list(tenantId);
  }

  private async checkedKey(scope: PolicyScope): Promise<string | null> {
    const keyId = scope.keyId ?? null;
    if (keyId && !(await this.options.keyBelongs(scope.tenantId, keyId))) {
      throw new GuardrailPolicyError(`key ${keyId} is not a key of tenant ${scope.tenantId}`);
    }
    return keyId;
  }
}

function merge(current: GuardrailPolicy | null | undefined, spec: string): GuardrailPolicy {
  let parsed: GuardrailPolicy;
  try {
    parsed = parseGuardrailSpec(spec);
  } catch (error: unknown) {
    throw new GuardrailPolicyError(error instanceof Error ? error.message : String(error));
  }
  const merged = { ...current, ...parsed, pii: { ...current?.pii, ...parsed.pii } };
  return guardrailPolicySchema.parse(merged);
}

function validContract(raw: unknown): InputContract {
  const parsed = inputContractSchema.safeParse(raw);
  if (!parsed.success) {
    throw new GuardrailPolicyError(
      `contract: ${parsed.error.issues.map((i) => `${i.path.join(".")} ${i.message}`).join("; ")}`,
    );
  }
  const schema = parsed.data.metadataSchema;
  const problem = schema ? schemaProblem(schema) : null;
  if (problem) throw new GuardrailPolicyError(`contract.metadataSchema does not compile: ${problem}`);
  return parsed.data;
}
