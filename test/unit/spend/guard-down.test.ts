import { describe, expect, it } from "vitest";
import { createEdgeRedis } from "../../../edge/services/edge-services.ts";
import { SpendGuard } from "../../../edge/services/spend-guard.ts";
import type { VerifiedKey } from "../../../shared/schemas/keys.ts";

const key: VerifiedKey = {
  keyId: "key_down",
  tenantId: "t-down",
  status: "active",
  allowedModels: null,
  rateLimitPerMinute: null,
  cacheTtlSeconds: null,
  tokensPerMinute: 10,
  budgets: {
    limits: [{ id: "b", scope: "key", metric: "usd", period: "day", limit: 0.000001, mode: "hard" }],
    priceCeiling: { input: 100, output: 100, cached: 100 },
  },
};

describe("SpendGuard when Redis cannot be reached", () => {
  it("fails open: the request passes unmetered, without token headers, and settling does nothing", async () => {
    const alerts: unknown[] = [];
    const guard = new SpendGuard(createEdgeRedis("http://127.0.0.1:9", "t"), {
      deadlineMs: 200,
      onSoftPassed: async (alert) => {
        alerts.push(alert);
      },
    });
    // Far past both limits: with Redis up this would be refused.
    const hold = await guard.hold(key, { promptTokens: 1_000, completionTokens: 1_000 });
    expect(hold.headers).toEqual({});
    await hold.settle({ usd: 1, tokens: 2_000 });
    await hold.release();
    expect(alerts).toEqual([]);
  });
});
