import { beforeAll, describe, expect, it } from "vitest";
import { type AccessRule, accessRules } from "../../../shared/admin/rbac.ts";
import { type AdminRouteId, adminRoutes } from "../../../shared/admin/routes.ts";
import { uniqueId } from "../db/local-db.ts";
import { type AdminStack, useAdminStack } from "./harness.ts";

// Every admin route × every kind of caller, generated from the route table: a route added without a
// rule does not compile (AdminRouteSpec), and one without a sample request here fails below.

const stack = useAdminStack(18_171, "admin-rbac");

const personas = [
  "admin",
  "tenant-admin (own tenant)",
  "tenant-admin (other tenant)",
  "viewer (global)",
  "viewer (own tenant)",
  "viewer (other tenant)",
  "no key",
  "traffic key",
] as const;
type Persona = (typeof personas)[number];

/** Who may call a route with each rule: written out here, not derived from the code under test. */
const allowedBy: Record<AccessRule, readonly Persona[]> = {
  "read:any": personas.filter((p) => p !== "no key" && p !== "traffic key"),
  "read:global": ["admin", "viewer (global)"],
  "read:tenant": ["admin", "tenant-admin (own tenant)", "viewer (global)", "viewer (own tenant)"],
  "write:tenant": ["admin", "tenant-admin (own tenant)"],
  "write:global": ["admin"],
};

interface Sample {
  method: "GET" | "POST";
  path: string;
  body?: unknown;
}

let tenant = "";
const tokens = new Map<Persona, string | undefined>();
const missingTier = "rbac-no-such-tier";

/** A fresh traffic key of the target tenant, for routes that change one. */
async function freshKey(s: AdminStack): Promise<string> {
  return (await s.trafficKey(tenant)).id;
}

/** A request per route that an allowed caller can make successfully, on the target tenant. */
const samples: Record<AdminRouteId, (s: AdminStack) => Promise<Sample>> = {
  whoami: async () => ({ method: "GET", path: "/admin/v1/whoami" }),
  "tenants.list": async () => ({ method: "GET", path: "/admin/v1/tenants" }),
  "tenants.create": async () => ({
    method: "POST",
    path: "/admin/v1/tenants",
    body: { id: uniqueId("rbac-new") },
  }),
  "tenants.get": async () => ({ method: "GET", path: `/admin/v1/tenants/${tenant}` }),
  "keys.list": async () => ({ method: "GET", path: `/admin/v1/tenants/${tenant}/keys` }),
  "keys.create": async () => ({
    method: "POST",
    path: `/admin/v1/tenants/${tenant}/keys`,
    body: { name: "rbac" },
  }),
  "keys.get": async (s) => ({ method: "GET", path: `/admin/v1/tenants/${tenant}/keys/${await freshKey(s)}` }),
  "keys.update": async (s) => ({
    method: "POST",
    path: `/admin/v1/tenants/${tenant}/keys/${await freshKey(s)}`,
    body: { rate_limit_per_minute: 30, allowed_models: ["small"] },
  }),
  "keys.revoke": async (s) => ({
    method: "POST",
    path: `/admin/v1/tenants/${tenant}/keys/${await freshKey(s)}/revoke`,
  }),
  "keys.rotate": async (s) => ({
    method: "POST",
    path: `/admin/v1/tenants/${tenant}/keys/${await freshKey(s)}/rotate`,
    body: { grace_seconds: 0 },
  }),
  "usage.tenant": async () => ({
    method: "GET",
    path: `/admin/v1/tenants/${tenant}/usage?group_by=key,model`,
  }),
  "usage.all": async () => ({ method: "GET", path: "/admin/v1/usage?group_by=tenant" }),
  "payloads.tenant": async () => ({ method: "GET", path: `/admin/v1/tenants/${tenant}/payloads?limit=5` }),
  "audit.tenant": async () => ({ method: "GET", path: `/admin/v1/tenants/${tenant}/audit?limit=5` }),
  "audit.all": async () => ({ method: "GET", path: "/admin/v1/audit?limit=5" }),
  "registry.list": async () => ({ method: "GET", path: "/admin/v1/registry/models" }),
  // Registry changes name a tier that does not exist: an allowed caller gets past authorisation to the
  // registry's own 404/400, and the shared stack's registry is never changed.
  "registry.promote": async () => ({
    method: "POST",
    path: "/admin/v1/registry/promote",
    body: { tier: missingTier, version: "v1", reason: "rbac test" },
  }),
  "registry.rollback": async () => ({
    method: "POST",
    path: "/admin/v1/registry/rollback",
    body: { tier: missingTier, reason: "rbac test" },
  }),
  "registry.pin": async () => ({
    method: "POST",
    path: "/admin/v1/registry/pin",
    body: { tier: missingTier, pinned: true, reason: "rbac test" },
  }),
  "admin-keys.list": async () => ({ method: "GET", path: "/admin/v1/admin-keys" }),
  "admin-keys.create": async () => ({
    method: "POST",
    path: "/admin/v1/admin-keys",
    body: { name: "rbac", role: "viewer", tenant_id: tenant },
  }),
  "admin-keys.revoke": async (s) => ({
    method: "POST",
    path: `/admin/v1/admin-keys/${(await s.adminKey("viewer")).id}/revoke`,
  }),
};

/** What an allowed call answers: its success status, or the registry's own answer to a missing tier. */
const allowedStatus: Partial<Record<AdminRouteId, number>> = {
  "registry.promote": 404,
  "registry.rollback": 400,
  "registry.pin": 404,
};

beforeAll(async () => {
  tenant = await stack.tenant("rbac-own");
  const other = await stack.tenant("rbac-other");
  tokens.set("admin", (await stack.adminKey("admin")).key);
  tokens.set("tenant-admin (own tenant)", (await stack.adminKey("tenant-admin", tenant)).key);
  tokens.set("tenant-admin (other tenant)", (await stack.adminKey("tenant-admin", other)).key);
  tokens.set("viewer (global)", (await stack.adminKey("viewer")).key);
  tokens.set("viewer (own tenant)", (await stack.adminKey("viewer", tenant)).key);
  tokens.set("viewer (other tenant)", (await stack.adminKey("viewer", other)).key);
  tokens.set("no key", undefined);
  tokens.set("traffic key", (await stack.trafficKey(tenant)).key);
}, 60_000);

describe("the RBAC matrix: every admin route × every caller", () => {
  it("has a sample request for every route and an expectation for every rule", () => {
    expect(Object.keys(samples).sort()).toEqual(adminRoutes.map((r) => r.id).sort());
    expect(Object.keys(allowedBy).sort()).toEqual([...accessRules].sort());
  });

  for (const route of adminRoutes) {
    it(`${route.id} (${route.rule})`, async () => {
      const outcomes: string[] = [];
      const expected: string[] = [];
      for (const persona of personas) {
        const sample = await samples[route.id](stack);
        const token = tokens.get(persona);
        const answer = await stack.call(sample.method, sample.path, {
          ...(token ? { token } : {}),
          ...(sample.body === undefined ? {} : { body: sample.body }),
        });
        const allowed = allowedBy[route.rule].includes(persona);
        const want =
          persona === "no key" || persona === "traffic key"
            ? 401
            : allowed
              ? (allowedStatus[route.id] ?? ("status" in route ? route.status : 200))
              : 403;
        expected.push(`${persona}: ${want}`);
        outcomes.push(`${persona}: ${answer.status}`);
        if (answer.status >= 400) {
          // The OpenAI error shape with the request id.
          expect(answer.body.error?.request_id, JSON.stringify(answer.body)).toBe(
            answer.headers.get("x-request-id"),
          );
        }
      }
      expect(outcomes).toEqual(expected);
    }, 60_000);
  }
});

describe("tenant isolation", () => {
  it("a tenant-admin can neither read nor change another tenant's key, even under its own tenant's path", async () => {
    const other = await stack.tenant("rbac-iso");
    const otherKey = await stack.trafficKey(other);
    const own = tokens.get("tenant-admin (own tenant)");
    const read = await stack.call("GET", `/admin/v1/tenants/${other}/keys/${otherKey.id}`, { token: own });
    expect(read.status).toBe(403);
    const disguised = await stack.call("POST", `/admin/v1/tenants/${tenant}/keys/${otherKey.id}/revoke`, {
      token: own,
    });
    expect(disguised.status).toBe(404);
    const admin = tokens.get("admin");
    const after = await stack.call("GET", `/admin/v1/tenants/${other}/keys/${otherKey.id}`, { token: admin });
    expect(after.status).toBe(200);
    expect(after.body.status).toBe("active");
    const audit = await stack.call("GET", `/admin/v1/tenants/${other}/audit`, { token: admin });
    const actions = (audit.body.data as { action: string; target: string }[]).filter(
      (r) => r.target === otherKey.id,
    );
    expect(actions.map((r) => r.action)).toEqual(["key.create"]);
  });

  it("admin credentials never work on traffic routes", async () => {
    const answer = await stack.call("GET", "/v1/models", { token: tokens.get("admin") });
    expect(answer.status).toBe(401);
    expect(answer.body.error?.code).toBe("invalid_api_key");
  });

  it("a revoked admin credential gets 401 at once", async () => {
    const victim = await stack.adminKey("viewer");
    expect((await stack.call("GET", "/admin/v1/whoami", { token: victim.key })).status).toBe(200);
    const revoked = await stack.call("POST", `/admin/v1/admin-keys/${victim.id}/revoke`, {
      token: tokens.get("admin"),
    });
    expect(revoked.status).toBe(200);
    expect((await stack.call("GET", "/admin/v1/whoami", { token: victim.key })).status).toBe(401);
  });
});
