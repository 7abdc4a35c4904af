import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { insertEvents } from "../../../workers/clickhouse/events.ts";
import { repoRoot } from "../../stack/paths.ts";
import { localDatabaseUrl, localWsProxy } from "../../stack/services/postgres.ts";
import { localClient, sampleEvent } from "../clickhouse/local-clickhouse.ts";
import { uniqueId } from "../db/local-db.ts";
import { useAdminStack } from "./harness.ts";

// Key expiry, rotation and revocation through the admin API, proven on traffic calls through the edge
// (whose key lookups are cached for 30 s); usage per key from ClickHouse; the audit log; the CLI.

const stack = useAdminStack(18_172, "admin-lifecycle");
let tenant = "";
let admin = "";

interface KeyAnswer {
  key: string;
  record: { id: string; expires_at: string | null; previous_key_expires_at: string | null; prefix: string };
}

async function createKey(body: Record<string, unknown> = {}): Promise<KeyAnswer> {
  const answer = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys`, {
    token: admin,
    body: { name: "lifecycle", ...body },
  });
  expect(answer.status, JSON.stringify(answer.body)).toBe(201);
  return answer.body as unknown as KeyAnswer;
}

/** A traffic call through the edge with `key`: its status and error code. */
async function traffic(key: string): Promise<{ status: number; code: string | undefined }> {
  const answer = await stack.call("GET", "/v1/models", { token: key });
  return { status: answer.status, code: answer.body.error?.code };
}

/** Waits until the clock is past `iso` (the test never asserts how long anything took). */
async function waitPast(iso: string): Promise<void> {
  const wait = Date.parse(iso) - Date.now() + 50;
  if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
}

beforeAll(async () => {
  tenant = await stack.tenant("lifecycle");
  admin = (await stack.adminKey("admin")).key;
}, 60_000);

describe("key expiry", () => {
  it("a key works until expires_at, then gets 401 key_expired although its lookup is still cached", async () => {
    const created = await createKey({ expires_in_seconds: 2 });
    expect(created.record.expires_at).not.toBeNull();
    expect(await traffic(created.key)).toEqual({ status: 200, code: undefined });
    await waitPast(created.record.expires_at ?? "");
    expect(await traffic(created.key)).toEqual({ status: 401, code: "key_expired" });
  });

  it("setting expires_at in the past stops a key at once", async () => {
    const created = await createKey();
    expect((await traffic(created.key)).status).toBe(200);
    const past = new Date(Date.now() - 60_000).toISOString();
    const updated = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${created.record.id}`, {
      token: admin,
      body: { expires_at: past },
    });
    expect(updated.status).toBe(200);
    expect(await traffic(created.key)).toEqual({ status: 401, code: "key_expired" });
  });

  it("revoking through the admin API stops a cached key at once", async () => {
    const created = await createKey();
    expect((await traffic(created.key)).status).toBe(200);
    const revoked = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${created.record.id}/revoke`, {
      token: admin,
    });
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe("revoked");
    expect(await traffic(created.key)).toEqual({ status: 403, code: "key_revoked" });
  });
});

describe("key rotation", () => {
  it("without grace: the old secret stops at once, the new one works under the same key id", async () => {
    const created = await createKey();
    expect((await traffic(created.key)).status).toBe(200);
    const rotated = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${created.record.id}/rotate`, {
      token: admin,
    });
    expect(rotated.status, JSON.stringify(rotated.body)).toBe(200);
    const fresh = rotated.body as unknown as KeyAnswer;
    expect(fresh.record.id).toBe(created.record.id);
    expect(fresh.key).not.toBe(created.key);
    expect(await traffic(created.key)).toEqual({ status: 401, code: "invalid_api_key" });
    expect((await traffic(fresh.key)).status).toBe(200);
  });

  it("with grace: both secrets work until the grace ends, then only the new one", async () => {
    const created = await createKey();
    expect((await traffic(created.key)).status).toBe(200);
    const rotated = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${created.record.id}/rotate`, {
      token: admin,
      body: { grace_seconds: 2 },
    });
    expect(rotated.status).toBe(200);
    const fresh = rotated.body as unknown as KeyAnswer;
    expect(fresh.record.previous_key_expires_at).not.toBeNull();
    expect((await traffic(created.key)).status).toBe(200);
    expect((await traffic(fresh.key)).status).toBe(200);
    await waitPast(fresh.record.previous_key_expires_at ?? "");
    expect(await traffic(created.key)).toEqual({ status: 401, code: "key_expired" });
    expect((await traffic(fresh.key)).status).toBe(200);
  });

  it("a revoked key cannot be rotated (400)", async () => {
    const created = await createKey();
    await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${created.record.id}/revoke`, {
      token: admin,
    });
    const rotated = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${created.record.id}/rotate`, {
      token: admin,
    });
    expect(rotated.status).toBe(400);
  });
});

describe("usage and audit", () => {
  it("usage per key and model comes from ClickHouse events, of the asked tenant only", async () => {
    const clickhouse = localClient(stack.clickhouseDatabase);
    const other = uniqueId("usage-other");
    const now = Date.now();
    const events = [
      ...Array.from({ length: 5 }, (_, i) =>
        sampleEvent({
          tenant,
          key_id: "key_a",
          model: "small",
          ts: now - 1_000 * i,
          prompt_tokens: 10,
          completion_tokens: 3,
        }),
      ),
      ...Array.from({ length: 3 }, (_, i) =>
        sampleEvent({
          tenant,
          key_id: "key_b",
          model: "large",
          ts: now - 1_000 * i,
          prompt_tokens: 7,
          completion_tokens: 2,
          status: i === 0 ? 500 : 200,
        }),
      ),
      sampleEvent({ tenant: other, key_id: "key_a", model: "small", ts: now, prompt_tokens: 1000 }),
    ];
    try {
      await insertEvents(clickhouse, events);
    } finally {
      await clickhouse.close();
    }
    const from = new Date(now - 3_600_000).toISOString();
    const to = new Date(now + 60_000).toISOString();
    const answer = await stack.call(
      "GET",
      `/admin/v1/tenants/${tenant}/usage?group_by=key,model&from=${from}&to=${to}`,
      {
        token: admin,
      },
    );
    expect(answer.status, JSON.stringify(answer.body)).toBe(200);
    const rows = answer.body.data as Record<string, unknown>[];
    expect(rows).toEqual([
      {
        key_id: "key_a",
        model: "small",
        requests: 5,
        errors: 0,
        cache_hits: 0,
        prompt_tokens: 50,
        completion_tokens: 15,
      },
      {
        key_id: "key_b",
        model: "large",
        requests: 3,
        errors: 1,
        cache_hits: 0,
        prompt_tokens: 21,
        completion_tokens: 6,
      },
    ]);
    const oneKey = await stack.call(
      "GET",
      `/admin/v1/tenants/${tenant}/usage?key_id=key_b&group_by=day&from=${from}&to=${to}`,
      {
        token: admin,
      },
    );
    expect((oneKey.body.data as { requests: number }[]).map((r) => r.requests)).toEqual([3]);
    const bad = await stack.call("GET", `/admin/v1/tenants/${tenant}/usage?group_by=color`, { token: admin });
    expect(bad.status).toBe(400);
  });

  it("payload logs: a tenant-admin reads its own tenant's rows only", async () => {
    const clickhouse = localClient(stack.clickhouseDatabase);
    const other = await stack.tenant("payload-other");
    const marker = uniqueId("payload");
    try {
      // Rows as the pool writes them for keys with payload logging on.
      await clickhouse.insert(
        "payload_logs",
        [tenant, other].map((t) => ({
          tenant: t,
          request_id: `${marker}-${t}`,
          key_id: "k",
          route: "chat",
          request: `{"messages":[{"role":"user","content":"${t} [EMAIL_1]"}]}`,
          response: `{"choices":[]}`,
          expires_at: new Date(Date.now() + 86_400_000).toISOString().replace("T", " ").replace("Z", ""),
        })),
      );
    } finally {
      await clickhouse.close();
    }
    const me = await stack.adminKey("tenant-admin", tenant);
    const own = await stack.call("GET", `/admin/v1/tenants/${tenant}/payloads?limit=1000`, { token: me.key });
    expect(own.status).toBe(200);
    const ids = (own.body as unknown as { data: { request_id: string; request: string }[] }).data;
    expect(ids.map((r) => r.request_id)).toContain(`${marker}-${tenant}`);
    expect(ids.map((r) => r.request_id)).not.toContain(`${marker}-${other}`);
    expect(ids.find((r) => r.request_id === `${marker}-${tenant}`)?.request).toContain("[EMAIL_1]");
    const theirs = await stack.call("GET", `/admin/v1/tenants/${other}/payloads`, { token: me.key });
    expect([403, 404]).toContain(theirs.status);
  });

  it("every change is audited with the credential as actor and no secret", async () => {
    const me = await stack.adminKey("tenant-admin", tenant);
    const created = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys`, {
      token: me.key,
      body: { name: "audited" },
    });
    const { key, record } = created.body as unknown as KeyAnswer;
    const rotated = (
      await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${record.id}/rotate`, { token: me.key })
    ).body as unknown as KeyAnswer;
    const audit = await stack.call("GET", `/admin/v1/tenants/${tenant}/audit?limit=50`, { token: me.key });
    const mine = (
      audit.body.data as { actor: string; actor_role: string; action: string; target: string }[]
    ).filter((r) => r.target === record.id);
    expect(mine.map((r) => [r.action, r.actor, r.actor_role])).toEqual([
      ["key.rotate", me.id, "tenant-admin"],
      ["key.create", me.id, "tenant-admin"],
    ]);
    const text = JSON.stringify(audit.body);
    expect(text).not.toContain(key);
    expect(text).not.toContain(rotated.key);
    expect(text).not.toContain("hash");
  });

  it("the audit table refuses updates, deletes and truncation", async () => {
    const { sql } = await import("drizzle-orm");
    const refusal = async (statement: ReturnType<typeof sql>) => {
      const error = await stack.db.execute(statement).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(Error);
      return String((error as Error & { cause?: unknown }).cause ?? error);
    };
    const last = sql`(select max(id) from admin_audit)`;
    expect(await refusal(sql`update admin_audit set actor = 'x' where id = ${last}`)).toMatch(/append-only/);
    expect(await refusal(sql`delete from admin_audit where id = ${last}`)).toMatch(/append-only/);
    expect(await refusal(sql`truncate admin_audit`)).toMatch(/append-only/);
  });
});

describe("the CLI over the same service layer", () => {
  const run = (args: string[]) =>
    spawnSync(join(repoRoot, "node_modules/.bin/bun"), ["workers/scripts/keys.ts", ...args], {
      cwd: repoRoot,
      env: {
        ...process.env,
        DATABASE_URL: localDatabaseUrl,
        NEON_WS_PROXY: localWsProxy,
        UPSTASH_REDIS_REST_URL: "",
        UPSTASH_REDIS_REST_TOKEN: "",
      },
      encoding: "utf8",
    });

  it("bootstraps a tenant-admin credential that works on the admin API, and creates keys with --expires-in", () => {
    const cliTenant = uniqueId("cli");
    const key = run(["create", "--tenant", cliTenant, "--expires-in", "30d"]);
    expect(key.status, key.stderr).toBe(0);
    const created = JSON.parse(key.stdout) as { expires_at: string };
    const days = (Date.parse(created.expires_at) - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29.9);
    expect(days).toBeLessThanOrEqual(30);
    const adminRun = run([
      "admin",
      "create",
      "--role",
      "tenant-admin",
      "--tenant",
      cliTenant,
      "--name",
      "ops",
    ]);
    expect(adminRun.status, adminRun.stderr).toBe(0);
    return (async () => {
      const { key: credential } = JSON.parse(adminRun.stdout) as { key: string };
      const whoami = await stack.call("GET", "/admin/v1/whoami", { token: credential });
      expect(whoami.body).toMatchObject({ role: "tenant-admin", tenant_id: cliTenant, name: "ops" });
      const keys = await stack.call("GET", `/admin/v1/tenants/${cliTenant}/keys`, { token: credential });
      expect((keys.body.data as unknown[]).length).toBe(1);
      const bad = run(["admin", "create", "--role", "tenant-admin"]);
      expect(bad.status).not.toBe(0);
      expect(bad.stderr).toContain("tenant-admin needs a tenant");
    })();
  }, 60_000);
});
