import { describe, expect, it } from "vitest";
import { verifiedKeySchema } from "../../../shared/schemas/keys.ts";
import { createApiKey, ensureTenant } from "../../../workers/db/api-keys.ts";
import { PostgresKeyStore } from "../../../workers/db/key-store.ts";
import { PostgresGuardrailPolicyStore } from "../../../workers/guardrails/policy-store.ts";
import {
  GuardrailPolicyError,
  GuardrailService,
  type PolicyScope,
} from "../../../workers/guardrails/service.ts";
import { runGuardrailsCli } from "../../../workers/scripts/guardrails.ts";
import { uniqueId, useLocalDatabase } from "./local-db.ts";

describe("guardrail policies in Postgres", () => {
  const database = useLocalDatabase();

  async function setup() {
    const db = database().db;
    const tenant = await ensureTenant(db, { id: uniqueId("guard"), name: "Guard" });
    const { key, record } = await createApiKey(db, { tenantId: tenant.id, name: "guard" });
    const other = await ensureTenant(db, { id: uniqueId("guard_other"), name: "Other" });
    const changes: PolicyScope[] = [];
    const service = new GuardrailService({
      store: new PostgresGuardrailPolicyStore(db),
      keyBelongs: async (tenantId, keyId) => tenantId === tenant.id && keyId === record.id,
      changed: async (scope) => {
        changes.push(scope);
      },
    });
    return { db, tenant, key, record, other, service, changes };
  }

  it("merges the tenant default with the key's own and hands it to the edge through key verification", async () => {
    const { db, tenant, record, service, changes } = await setup();
    await service.set({ tenantId: tenant.id, spec: "email=redact,phone=log,output=on" });
    await service.set({
      tenantId: tenant.id,
      keyId: record.id,
      spec: "phone=block,card=block,injection=block",
      contract: { metadataSchema: { type: "object", required: ["record_type"] }, allowedRoles: ["user"] },
    });
    expect(changes).toEqual([
      { tenantId: tenant.id, keyId: null },
      { tenantId: tenant.id, keyId: record.id },
    ]);
    const verified = await new PostgresKeyStore(db).findByHash(record.keyHash);
    const parsed = verifiedKeySchema.parse(verified);
    expect(parsed.guardrails).toEqual({
      pii: { email: "redact", phone: "block", card: "block" },
      output: true,
      injection: { mode: "block" },
    });
    expect(parsed.contract).toMatchObject({ allowedRoles: ["user"] });

    // A later set merges into the stored policy; clearing the key's own leaves the tenant's.
    await service.set({ tenantId: tenant.id, keyId: record.id, spec: "ssn=redact" });
    expect(
      (await service.show({ tenantId: tenant.id, keyId: record.id })).effective?.guardrails?.pii,
    ).toMatchObject({
      ssn: "redact",
      card: "block",
    });
    expect(await service.clear({ tenantId: tenant.id, keyId: record.id })).toBe(true);
    const after = verifiedKeySchema.parse(await new PostgresKeyStore(db).findByHash(record.keyHash));
    expect(after.guardrails).toEqual({ pii: { email: "redact", phone: "log" }, output: true });
    expect(after.contract).toBeNull();
    expect(await service.clear({ tenantId: tenant.id, keyId: record.id })).toBe(false);
  });

  it("refuses a malformed spec, an uncompilable contract and another tenant's key, storing nothing", async () => {
    const { tenant, record, other, service } = await setup();
    await expect(service.set({ tenantId: tenant.id, spec: "email=shred" })).rejects.toThrow(
      GuardrailPolicyError,
    );
    await expect(service.set({ tenantId: tenant.id, spec: "fingerprint=block" })).rejects.toThrow(/unknown/);
    await expect(
      service.set({ tenantId: tenant.id, contract: { metadataSchema: { type: "object", required: "x" } } }),
    ).rejects.toThrow(GuardrailPolicyError);
    await expect(service.set({ tenantId: tenant.id, contract: { allowedRoles: ["robot"] } })).rejects.toThrow(
      /contract/,
    );
    await expect(service.set({ tenantId: other.id, keyId: record.id, spec: "email=block" })).rejects.toThrow(
      /not a key of tenant/,
    );
    expect(await service.list(tenant.id)).toEqual([]);
  });

  it("npm run guardrails sets, shows and clears a tenant's policy", async () => {
    const { db, tenant, record } = await setup();
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      out.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      await runGuardrailsCli(["set", "--tenant", tenant.id, "--pii", "card=block,iban=redact"]);
      await runGuardrailsCli([
        "set",
        "--tenant",
        tenant.id,
        "--key",
        record.id,
        "--contract",
        '{"maxContentChars":100}',
      ]);
      await runGuardrailsCli(["show", "--tenant", tenant.id, "--key", record.id]);
    } finally {
      process.stdout.write = write;
    }
    const shown = JSON.parse(out.at(-1) ?? "{}") as { effective: { guardrails: unknown; contract: unknown } };
    expect(shown.effective).toEqual({
      guardrails: { pii: { card: "block", iban: "redact" } },
      contract: { maxContentChars: 100 },
    });
    await expect(
      runGuardrailsCli(["set", "--tenant", tenant.id, "--key", "key_nope", "--pii", "ip=log"]),
    ).rejects.toThrow(/not a key of tenant/);
    const store = new PostgresGuardrailPolicyStore(db);
    expect((await store.list(tenant.id)).length).toBe(2);
  });
});
