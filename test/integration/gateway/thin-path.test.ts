import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { requests } from "../../../workers/db/schema.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { edgeService, poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";

const env = localPoolEnv();
const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
const clickhouse = createClickHouse(clickhouseConfig(env));
let apiKey = "";

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 200));
  }
}

beforeAll(async () => {
  await poolService.start();
  await edgeService.start();
  apiKey = (await createTestApiKey(`thin-path-${Date.now()}`)).key;
});

afterAll(async () => {
  await database.close();
  await clickhouse.close();
});

describe("the thin path: edge (workerd) → cache → Bun pool → Kafka → ClickHouse, and Postgres", () => {
  it("answers, records the event and the request row, and serves the repeat from the cache", async () => {
    const body = JSON.stringify({
      model: "auto",
      temperature: 0,
      user: "user-thin-path",
      max_tokens: 8,
      // A fresh seed makes the cache key new each run; at temperature 0 the model's answer does not
      // depend on it (a random text in the prompt could make the real model end its answer at once).
      seed: Math.floor(Math.random() * 2 ** 31),
      messages: [{ role: "user", content: "Say hello." }],
    });
    const send = () =>
      fetch(`${edgeService.url}/v1/chat/completions`, {
        method: "POST",
        headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
        body,
      });

    const first = await send();
    expect(first.status).toBe(200);
    expect(first.headers.get("x-cache")).toBe("MISS");
    const requestId = first.headers.get("x-request-id") ?? "";
    expect(requestId).not.toBe("");
    expect(first.headers.get("x-tiergate-tier")).toMatch(/^(small|medium|large|rules)$/);
    const completion = (await first.json()) as { choices: { message: { content: string } }[] };
    expect(completion.choices[0]?.message.content.length).toBeGreaterThan(0);

    const row = await eventually(async () => {
      const rows = await database.db.select().from(requests).where(eq(requests.requestId, requestId));
      return rows[0];
    });
    expect(row).toMatchObject({ status: 200, cache: "MISS" });

    const events = await eventually(async () => {
      const rows = await clickhouse.query(
        "SELECT request_id, user_id, route, route_decision, prompt_chars, answer_chars FROM events FINAL WHERE request_id = {id:String}",
        { id: requestId },
        z.object({
          request_id: z.string(),
          user_id: z.string(),
          route: z.string(),
          route_decision: z.string(),
          prompt_chars: z.number(),
          answer_chars: z.number(),
        }),
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ request_id: requestId, user_id: "user-thin-path", route: "chat" });
    expect(events[0]?.route_decision).not.toBe("");
    expect(events[0]?.prompt_chars).toBeGreaterThan(0); // drift inputs ride on every event
    expect(events[0]?.answer_chars).toBe(completion.choices[0]?.message.content.length);

    // The first answer is stored in the background: a repeat sent before that finishes is another
    // miss, whose answer may be the one stored. The hit must replay one of the answers given.
    const answered: unknown[] = [completion];
    const hit = await eventually(async () => {
      const response = await send();
      if (response.headers.get("x-cache") === "HIT") return response;
      answered.push(await response.json());
      return undefined;
    }, 5_000);
    expect(answered).toContainEqual(await hit.json());

    // The edge answered the hit itself; its event still reaches ClickHouse through the pool.
    const hitId = hit.headers.get("x-request-id") ?? "";
    const hitEvents = await eventually(async () => {
      const rows = await clickhouse.query(
        "SELECT tier, cache, status FROM events FINAL WHERE request_id = {id:String}",
        { id: hitId },
        z.object({ tier: z.string(), cache: z.string(), status: z.number() }),
      );
      return rows.length > 0 ? rows : undefined;
    });
    expect(hitEvents).toEqual([{ tier: "edge", cache: "HIT", status: 200 }]);
  });

  it("records a request the edge refused after verifying its key, and none for an unknown key", async () => {
    const refuse = (key: string, requestId: string) =>
      fetch(`${edgeService.url}/v1/chat/completions`, {
        method: "POST",
        headers: {
          authorization: `Bearer ${key}`,
          "content-type": "application/json",
          "x-request-id": requestId,
        },
        body: JSON.stringify({ model: "auto", temperature: 9, messages: [{ role: "user", content: "hi" }] }),
      });
    // The events are keyed by the server's request id (x-request-id); the client's is echoed apart.
    const clientAnonymousId = `refused-anonymous-${crypto.randomUUID()}`;
    const anonymous = await refuse("tg_not_a_key", clientAnonymousId);
    expect(anonymous.status).toBe(401);
    expect(anonymous.headers.get("x-client-request-id")).toBe(clientAnonymousId);
    const anonymousId = anonymous.headers.get("x-request-id") ?? "";
    const clientRefusedId = `refused-${crypto.randomUUID()}`;
    const refused = await refuse(apiKey, clientRefusedId);
    expect(refused.status).toBe(400);
    expect(refused.headers.get("x-client-request-id")).toBe(clientRefusedId);
    const refusedId = refused.headers.get("x-request-id") ?? "";
    expect(refusedId).toMatch(/^req_[0-9a-f]{32}$/);
    expect(((await refused.json()) as { error: { param: string } }).error.param).toBe("temperature");

    const eventsOf = (id: string) =>
      clickhouse.query(
        "SELECT route, tier, provider, cache, status FROM events FINAL WHERE request_id = {id:String}",
        { id },
        z.object({
          route: z.string(),
          tier: z.string(),
          provider: z.string(),
          cache: z.string(),
          status: z.number(),
        }),
      );
    const events = await eventually(async () => {
      const rows = await eventsOf(refusedId);
      return rows.length > 0 ? rows : undefined;
    });
    expect(events).toEqual([
      { route: "chat", tier: "edge", provider: "edge-refused", cache: "BYPASS", status: 400 },
    ]);
    // The 401 went out before the 400, in the same or an earlier batch: it was never queued.
    expect(await eventsOf(anonymousId)).toEqual([]);
  });
});
