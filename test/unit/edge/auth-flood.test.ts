import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { FakePool, goodKey, unitEnv } from "./fake-pool.ts";

const app = createEdgeApp();
const pool = new FakePool();
let env: Record<string, string> = {};
const perSecond = 5;

beforeAll(async () => {
  env = unitEnv(`local=${await pool.start()}`, { AUTH_LOOKUPS_PER_IP_PER_SECOND: String(perSecond) });
});
afterAll(() => pool.stop());

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
function randomKey(): string {
  let out = "tg_";
  for (const byte of crypto.getRandomValues(new Uint8Array(32))) out += base62[byte % 62];
  return out;
}

async function models(token: string, ip: string): Promise<Response> {
  return app.request(
    "/v1/models",
    { headers: { authorization: `Bearer ${token}`, "cf-connecting-ip": ip } },
    env,
  );
}

describe("work before authentication", () => {
  it("refuses tokens that are not shaped like issued keys without any lookup", async () => {
    pool.keyLookups = 0;
    for (const token of ["nope", "tg_short", `sk-${"a".repeat(48)}`, `tg_${"a".repeat(31)}!`]) {
      const response = await models(token, "198.51.100.1");
      expect(response.status).toBe(401);
      const body = (await response.json()) as { error: { code: string; request_id: string } };
      expect(body.error.code).toBe("invalid_api_key");
      expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
    }
    expect(pool.keyLookups).toBe(0);
  });

  it("bounds the key lookups a flood of random tokens from one address causes per second", async () => {
    pool.keyLookups = 0;
    const started = Date.now();
    const statuses: number[] = [];
    for (let round = 0; round < 10; round++) {
      const answers = await Promise.all(Array.from({ length: 40 }, () => models(randomKey(), "203.0.113.7")));
      statuses.push(...answers.map((r) => r.status));
    }
    const seconds = Math.floor(Date.now() / 1000) - Math.floor(started / 1000) + 1;
    expect(statuses.length).toBe(400);
    expect(statuses.every((s) => s === 401 || s === 429)).toBe(true);
    expect(statuses.filter((s) => s === 429).length).toBeGreaterThan(0);
    expect(pool.keyLookups).toBeLessThanOrEqual(perSecond * seconds);
  });

  it("does not let one address's flood lock out another address", async () => {
    await Promise.all(Array.from({ length: 20 }, () => models(randomKey(), "203.0.113.8")));
    const response = await models(goodKey, "192.0.2.10");
    expect(response.status).not.toBe(429);
    expect(response.status).not.toBe(401);
  });

  it("caches an unknown key: repeating it costs no second lookup", async () => {
    const token = randomKey();
    pool.keyLookups = 0;
    expect((await models(token, "192.0.2.11")).status).toBe(401);
    expect((await models(token, "192.0.2.11")).status).toBe(401);
    expect(pool.keyLookups).toBe(1);
  });
});
