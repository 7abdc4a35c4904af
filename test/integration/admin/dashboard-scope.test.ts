import { beforeAll, describe, expect, it } from "vitest";
import { insertEvents } from "../../../workers/clickhouse/events.ts";
import { localClient, sampleEvent } from "../clickhouse/local-clickhouse.ts";
import { useAdminStack } from "./harness.ts";

// The pool's dashboard admits admin credentials and scopes them: a tenant-admin (or a tenant's viewer)
// sees its own tenant only; admin and a global viewer see every tenant.

const stack = useAdminStack(18_173, "admin-dashboard");
let own = "";
let other = "";

/** Requests in the last hour's stats as `token` sees them (status, and the sum over tiers). */
async function stats(token: string | undefined, tenant = ""): Promise<{ status: number; requests: number }> {
  const response = await fetch(`${stack.pool.url}/dashboard/api/stats?window=1h&tenant=${tenant}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const body = (await response.json()) as { tiers?: { requests: number }[] };
  return { status: response.status, requests: (body.tiers ?? []).reduce((n, t) => n + t.requests, 0) };
}

beforeAll(async () => {
  own = await stack.tenant("dash-own");
  other = await stack.tenant("dash-other");
  const clickhouse = localClient(stack.clickhouseDatabase);
  const now = Date.now();
  try {
    await insertEvents(clickhouse, [
      ...Array.from({ length: 5 }, (_, i) => sampleEvent({ tenant: own, ts: now - i * 1_000 })),
      ...Array.from({ length: 3 }, (_, i) => sampleEvent({ tenant: other, ts: now - i * 1_000 })),
    ]);
  } finally {
    await clickhouse.close();
  }
}, 60_000);

describe("the dashboard scoped by the admin credential's role", () => {
  it("a tenant-admin sees its own tenant only and cannot ask for another", async () => {
    const key = (await stack.adminKey("tenant-admin", own)).key;
    expect(await stats(key)).toEqual({ status: 200, requests: 5 });
    expect((await stats(key, other)).status).toBe(403);
  });

  it("a tenant's viewer sees that tenant only", async () => {
    const key = (await stack.adminKey("viewer", other)).key;
    expect(await stats(key)).toEqual({ status: 200, requests: 3 });
  });

  it("admin and a global viewer see every tenant", async () => {
    for (const key of [(await stack.adminKey("admin")).key, (await stack.adminKey("viewer")).key]) {
      expect(await stats(key)).toEqual({ status: 200, requests: 8 });
      expect(await stats(key, other)).toEqual({ status: 200, requests: 3 });
    }
  });

  it("no credential, a traffic key or a revoked credential gets 401", async () => {
    expect((await stats(undefined)).status).toBe(401);
    expect((await stats((await stack.trafficKey(own)).key)).status).toBe(401);
    const revoked = await stack.adminKey("admin");
    const admin = (await stack.adminKey("admin")).key;
    await stack.call("POST", `/admin/v1/admin-keys/${revoked.id}/revoke`, { token: admin });
    expect((await stats(revoked.key)).status).toBe(401);
  });

  it("the login form takes an admin credential and its session cookie keeps the scope", async () => {
    const key = (await stack.adminKey("tenant-admin", own)).key;
    const login = await fetch(`${stack.pool.url}/dashboard/login`, {
      method: "POST",
      body: new URLSearchParams({ token: key }),
      redirect: "manual",
    });
    expect(login.status).toBe(303);
    const cookie = login.headers.get("set-cookie")?.split(";")[0] ?? "";
    expect(cookie).not.toContain(key);
    const response = await fetch(`${stack.pool.url}/dashboard/api/stats?window=1h`, { headers: { cookie } });
    const body = (await response.json()) as { tiers: { requests: number }[] };
    expect(body.tiers.reduce((n, t) => n + t.requests, 0)).toBe(5);
  });
});
