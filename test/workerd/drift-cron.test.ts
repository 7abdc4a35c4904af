import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { signedHeaders } from "../../shared/signing.ts";

/** The local stack's pool, signing secret and admin credential (wrangler.toml [vars]). */
const bindings = env as unknown as {
  POOL_REGIONS: string;
  POOL_SIGNING_SECRET: string;
  POOL_ADMIN_SECRET: string;
  POOL_ADMIN_CREDENTIAL: string;
};
const poolUrl = bindings.POOL_REGIONS.split(",")[0]?.split("=")[1] ?? "";

interface DriftStatus {
  lease: { holder: string; expiresAt: string } | null;
  tiers: { tier: string; modelVersion: string; lastWindowEnd: string | null }[];
}

/** A drift call signed with `secret` as `credential` (the admin one unless a test says otherwise). */
async function driftCall(
  path: string,
  options: { method?: "GET" | "POST"; body?: string; secret?: string; credential?: string } = {},
): Promise<Response> {
  const method = options.method ?? "GET";
  const body = options.body ?? "";
  return fetch(`${poolUrl}${path}`, {
    method,
    headers: {
      "content-type": "application/json",
      ...(await signedHeaders(options.secret ?? bindings.POOL_ADMIN_SECRET, {
        method,
        pathAndQuery: path,
        body,
        headers: {},
        credential: options.credential ?? bindings.POOL_ADMIN_CREDENTIAL,
      })),
    },
    ...(method === "POST" ? { body } : {}),
  });
}

/** Reads the pool's drift status, signed with the edge's admin credential. */
async function driftStatus(): Promise<DriftStatus> {
  const response = await driftCall("/internal/v1/drift/status");
  expect(response.status).toBe(200);
  return (await response.json()) as DriftStatus;
}

describe("drift cron trigger (inside workerd)", () => {
  it("the scheduled handler makes the pool run the drift job for the window ending at the scheduled time", async () => {
    const scheduledTime = Date.now();
    await exports.default.scheduled({ cron: "*/10 * * * *", scheduledTime: new Date(scheduledTime) });
    // The run took the Postgres lease under the cron's name; the lease row keeps the last holder.
    // The job writes each tier's state as it finishes that tier; poll until the run is through.
    const allTiers = ["small", "medium", "large"];
    const ran = (s: DriftStatus) =>
      s.lease?.holder.startsWith(`cron:*/10 * * * *@${scheduledTime}#`) === true &&
      allTiers.every((tier) => s.tiers.some((t) => t.tier === tier));
    let status = await driftStatus();
    for (let i = 0; i < 400 && !ran(status); i++) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      status = await driftStatus();
    }
    expect(status.lease?.holder).toMatch(new RegExp(`^cron:\\*/10 \\* \\* \\* \\*@${scheduledTime}#`));
    // Every tier with an active version has drift state (the default tiers at least).
    expect(status.tiers.map((t) => t.tier)).toEqual(expect.arrayContaining(allTiers));
  }, 60_000);

  it("an unsigned call to the drift endpoint is refused", async () => {
    const response = await fetch(`${poolUrl}/internal/v1/drift/run`, { method: "POST", body: "{}" });
    expect(response.status).toBe(401);
  });

  it("the traffic signing secret cannot run the drift job or read its status (403)", async () => {
    const traffic = { secret: bindings.POOL_SIGNING_SECRET, credential: "edge" };
    const run = await driftCall("/internal/v1/drift/run", { ...traffic, method: "POST", body: "{}" });
    expect(run.status).toBe(403);
    expect(((await run.json()) as { error: { code: string } }).error.code).toBe("admin_required");
    expect((await driftCall("/internal/v1/drift/status", traffic)).status).toBe(403);
  });

  it("a run whose window ends more than a day away from the server's clock is refused (400)", async () => {
    const far = Date.now() - 3 * 24 * 3600 * 1000;
    const response = await driftCall("/internal/v1/drift/run", {
      method: "POST",
      body: JSON.stringify({ now: far, tiers: ["no-such-tier"] }),
    });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { error: { param: string } }).error.param).toBe("now");
  });
});
