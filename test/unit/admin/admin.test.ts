import { describe, expect, it } from "vitest";
import { type AdminPrincipal, adminKeyPattern, isAllowed } from "../../../shared/admin/rbac.ts";
import { adminRoutes } from "../../../shared/admin/routes.ts";
import { apiKeyPattern } from "../../../shared/schemas/keys.ts";
import { secretExpiry } from "../../../workers/admin/key-expiry.ts";
import { randomSecret } from "../../../workers/admin/secrets.ts";
import { usageQueryFrom } from "../../../workers/admin/usage.ts";
import type { ApiKey } from "../../../workers/db/schema.ts";
import { durationOption } from "../../../workers/scripts/lib/admin-cli.ts";

const principal = (role: AdminPrincipal["role"], tenantId: string | null): AdminPrincipal => ({
  id: "adm_1",
  name: "t",
  role,
  tenantId,
});

describe("roles", () => {
  it("a tenant-admin writes and reads its own tenant only, never global", () => {
    const p = principal("tenant-admin", "a");
    expect(isAllowed(p, "write:tenant", "a")).toBe(true);
    expect(isAllowed(p, "read:tenant", "a")).toBe(true);
    expect(isAllowed(p, "write:tenant", "b")).toBe(false);
    expect(isAllowed(p, "read:tenant", "b")).toBe(false);
    expect(isAllowed(p, "read:global")).toBe(false);
    expect(isAllowed(p, "write:global")).toBe(false);
    expect(isAllowed(p, "write:tenant")).toBe(false);
  });

  it("a viewer never writes; a global one reads everything, a scoped one its tenant", () => {
    for (const rule of ["write:tenant", "write:global"] as const) {
      expect(isAllowed(principal("viewer", null), rule, "a")).toBe(false);
      expect(isAllowed(principal("viewer", "a"), rule, "a")).toBe(false);
    }
    expect(isAllowed(principal("viewer", null), "read:global")).toBe(true);
    expect(isAllowed(principal("viewer", null), "read:tenant", "b")).toBe(true);
    expect(isAllowed(principal("viewer", "a"), "read:tenant", "a")).toBe(true);
    expect(isAllowed(principal("viewer", "a"), "read:tenant", "b")).toBe(false);
    expect(isAllowed(principal("viewer", "a"), "read:global")).toBe(false);
  });

  it("every route has a rule, a unique id and a unique method + path", () => {
    const ids = adminRoutes.map((r) => r.id);
    expect(new Set(ids).size).toBe(ids.length);
    const targets = adminRoutes.map((r) => `${r.method} ${r.path}`);
    expect(new Set(targets).size).toBe(targets.length);
    for (const route of adminRoutes) {
      if (route.path.includes("{tenant}")) expect(route.rule, route.id).toMatch(/:tenant$/);
    }
  });

  it("admin credentials and API keys never share a shape", () => {
    const admin = randomSecret("tga_");
    const traffic = randomSecret("tg_");
    expect(adminKeyPattern.test(admin)).toBe(true);
    expect(apiKeyPattern.test(admin)).toBe(false);
    expect(apiKeyPattern.test(traffic)).toBe(true);
    expect(adminKeyPattern.test(traffic)).toBe(false);
  });
});

describe("a secret's expiry", () => {
  const row = (over: Partial<ApiKey>) =>
    ({
      keyHash: "new",
      previousKeyHash: "old",
      expiresAt: null,
      previousKeyExpiresAt: null,
      ...over,
    }) as ApiKey;

  it("the current secret expires with the key; a replaced one at the end of its grace, or the key's if sooner", () => {
    expect(secretExpiry(row({}), "new")).toBeNull();
    const key = new Date("2030-01-01T00:00:00Z");
    const grace = new Date("2029-01-01T00:00:00Z");
    expect(secretExpiry(row({ expiresAt: key }), "new")).toBe(key.toISOString());
    expect(secretExpiry(row({ expiresAt: key, previousKeyExpiresAt: grace }), "old")).toBe(
      grace.toISOString(),
    );
    expect(secretExpiry(row({ expiresAt: grace, previousKeyExpiresAt: key }), "old")).toBe(
      grace.toISOString(),
    );
    // No grace recorded: the replaced secret is already expired.
    expect(Date.parse(secretExpiry(row({}), "old") ?? "")).toBeLessThan(Date.now());
  });
});

describe("usage queries and durations", () => {
  it("defaults to the last 24 hours grouped by model; refuses an empty or too long period", () => {
    const q = usageQueryFrom({}, "t", 1_000_000_000_000);
    expect(q).toEqual({
      tenant: "t",
      fromMs: 1_000_000_000_000 - 86_400_000,
      toMs: 1_000_000_000_000,
      groupBy: ["model"],
    });
    expect(() => usageQueryFrom({ from: "2026-01-02T00:00:00Z", to: "2026-01-01T00:00:00Z" }, "t")).toThrow(
      /before/,
    );
    expect(() => usageQueryFrom({ from: "2020-01-01T00:00:00Z", to: "2026-01-01T00:00:00Z" }, "t")).toThrow(
      /400 days/,
    );
  });

  it("parses 30d, 12h, 45m and bare seconds; refuses nonsense", () => {
    expect(durationOption.parse("30d")).toBe(30 * 86_400);
    expect(durationOption.parse("12h")).toBe(12 * 3_600);
    expect(durationOption.parse("45m")).toBe(45 * 60);
    expect(durationOption.parse("3600")).toBe(3_600);
    expect(durationOption.safeParse("0d").success).toBe(false);
    expect(durationOption.safeParse("1w").success).toBe(false);
  });
});
