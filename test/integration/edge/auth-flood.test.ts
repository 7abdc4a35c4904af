import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../../workers/db/client.ts";
import { poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { writeResults } from "../../stack/paths.ts";
import { type ExtraEdge, startWranglerEdge } from "./wrangler-edge.ts";

const perSecond = 5;
const env = localPoolEnv();
const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
let edge: ExtraEdge;

/**
 * Postgres's own count of reads of `api_keys` (sequential and index scans): each key lookup the pool
 * makes is one. Backends report their statistics when idle, within 10 s (PGSTAT_IDLE_INTERVAL).
 */
async function apiKeyScans(): Promise<number> {
  await new Promise((resolve) => setTimeout(resolve, 11_000));
  const { rows } = await database.pool.query<{ scans: string }>(
    "SELECT (coalesce(seq_scan, 0) + coalesce(idx_scan, 0))::text AS scans FROM pg_stat_user_tables WHERE relname = 'api_keys'",
  );
  return Number(rows[0]?.scans ?? 0);
}

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
function randomKey(): string {
  let out = "tg_";
  for (const byte of crypto.getRandomValues(new Uint8Array(32))) out += base62[byte % 62];
  return out;
}

beforeAll(async () => {
  await poolService.start();
  edge = await startWranglerEdge("edge-auth-flood", 8792, {
    AUTH_LOOKUPS_PER_IP_PER_SECOND: String(perSecond),
  });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await database.close();
});

describe("a flood of random bearer tokens (workerd edge, real pool and Postgres)", () => {
  it("gets 401/429 and costs at most the per-IP number of Postgres key lookups per second", async () => {
    const before = await apiKeyScans();
    const started = Date.now();
    const statuses: number[] = [];
    for (let round = 0; round < 8; round++) {
      const tokens = [
        ...Array.from({ length: 40 }, randomKey),
        ...Array.from({ length: 20 }, (_, i) => `not-a-key-${round}-${i}`),
      ];
      const answers = await Promise.all(
        tokens.map((token) =>
          fetch(`${edge.url}/v1/models`, { headers: { authorization: `Bearer ${token}` } }).then(
            async (r) => {
              await r.body?.cancel();
              return r.status;
            },
          ),
        ),
      );
      statuses.push(...answers);
    }
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    const lookups = (await apiKeyScans()) - before;
    writeResults("auth-flood", {
      requests: statuses.length,
      status401: statuses.filter((s) => s === 401).length,
      status429: statuses.filter((s) => s === 429).length,
      postgresLookups: lookups,
      seconds,
      bound: perSecond * seconds,
    });
    expect(statuses).toHaveLength(480);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(lookups).toBeGreaterThan(0);
    expect(lookups).toBeLessThanOrEqual(perSecond * seconds);
  }, 120_000);
});
