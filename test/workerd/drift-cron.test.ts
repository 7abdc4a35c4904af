import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import { headers } from "../../shared/headers.ts";
import { randomNonce, sha256Hex, sign } from "../../shared/signing.ts";

/** The local stack's pool and signing secret (wrangler.toml [vars]). */
const bindings = env as unknown as { POOL_REGIONS: string; POOL_SIGNING_SECRET: string };
const poolUrl = bindings.POOL_REGIONS.split(",")[0]?.split("=")[1] ?? "";

interface DriftStatus {
  lease: { holder: string; expiresAt: string } | null;
  tiers: { tier: string; modelVersion: string; lastWindowEnd: string | null }[];
}

/** Reads the pool's drift status, signed the way the edge signs its calls. */
async function driftStatus(): Promise<DriftStatus> {
  const path = "/internal/v1/drift/status";
  const timestamp = Date.now();
  const nonce = randomNonce();
  const signature = await sign(bindings.POOL_SIGNING_SECRET, {
    method: "GET",
    path,
    timestamp,
    nonce,
    bodySha256: await sha256Hex(""),
  });
  const response = await fetch(`${poolUrl}${path}`, {
    headers: {
      [headers.timestamp]: String(timestamp),
      [headers.nonce]: nonce,
      [headers.signature]: signature,
    },
  });
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
});
