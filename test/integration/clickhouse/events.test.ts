import { describe, expect, it } from "vitest";
import { z } from "zod";
import { eventsPerMinute, insertEvents } from "../../../workers/clickhouse/events.ts";
import { localClient, sampleEvent, scratchDatabase, useScratchDatabase } from "./local-clickhouse.ts";

const database = scratchDatabase("events");
const countRow = z.object({ n: z.number() });

describe("events in ClickHouse", () => {
  const ch = localClient(database);
  useScratchDatabase(database, ch);

  async function count(tenant: string, final: boolean): Promise<number> {
    const [row] = await ch.query(
      `SELECT count() AS n FROM events ${final ? "FINAL" : ""} WHERE tenant = {tenant:String}`,
      { tenant },
      countRow,
    );
    return row?.n ?? -1;
  }

  it("stores every field of a RequestEvent", async () => {
    const event = sampleEvent({
      tenant: "fields",
      ts: Date.now() - 1_234,
      cache: "HIT",
      fallback_reason: "timeout",
    });
    await insertEvents(ch, [event]);
    const [row] = await ch.query(
      `SELECT toString(e.event_id) AS event_id, toUnixTimestamp64Milli(ts) AS ts, request_id, tenant, user_id, route,
              tier, model, model_version, provider, status, cache, fallback_reason, queue_ms, ttft_ms, latency_ms,
              prompt_tokens, completion_tokens
       FROM events AS e WHERE e.event_id = {id:UUID}`,
      { id: event.event_id },
      z.object({}).passthrough(),
    );
    expect(row).toEqual(event);
  });

  it("fills the per-minute rollup through the materialized view", async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const events = [
      sampleEvent({ tenant: "mv", ts: minute + 1_000, user_id: "u1", latency_ms: 100, cache: "HIT" }),
      sampleEvent({ tenant: "mv", ts: minute + 2_000, user_id: "u2", latency_ms: 200 }),
      sampleEvent({
        tenant: "mv",
        ts: minute + 3_000,
        user_id: "u1",
        latency_ms: 300,
        fallback_reason: "rate_limited",
      }),
      sampleEvent({ tenant: "mv", ts: minute + 4_000, user_id: "u3", latency_ms: 400, cache: "HIT" }),
    ];
    await insertEvents(ch, events);
    const rows = await eventsPerMinute(ch, { tenant: "mv", fromMs: minute, toMs: minute + 60_000 });
    expect(rows).toHaveLength(1);
    const [row] = rows;
    expect(row).toMatchObject({
      tenant: "mv",
      tier: "small",
      minute,
      requests: 4,
      users: 3,
      latency_avg_ms: 250,
      cache_hits: 2,
      fallbacks: 1,
    });
    expect(row?.latency_quantiles_ms).toHaveLength(3);
    const [p50, p95, p99] = row?.latency_quantiles_ms ?? [];
    expect(p50).toBeGreaterThanOrEqual(100);
    expect(p99).toBeLessThanOrEqual(400);
    expect(p50).toBeLessThanOrEqual(p95 ?? 0);
  });

  it("collapses a re-delivered event_id when read with FINAL", async () => {
    const event = sampleEvent({ tenant: "dup" });
    await insertEvents(ch, [event]);
    await insertEvents(ch, [event]); // e.g. Kafka re-delivery in a later batch, no dedup token
    expect(await count("dup", true)).toBe(1);
    await ch.command("OPTIMIZE TABLE events FINAL");
    expect(await count("dup", false)).toBe(1);
  });

  it("drops a retried batch with the same dedup token, in events and in the rollup", async () => {
    const minute = Math.floor(Date.now() / 60_000) * 60_000;
    const batch = [
      sampleEvent({ tenant: "token", ts: minute }),
      sampleEvent({ tenant: "token", ts: minute + 1 }),
    ];
    await insertEvents(ch, batch, "partition-0-offsets-10-11");
    await insertEvents(ch, batch, "partition-0-offsets-10-11");
    expect(await count("token", false)).toBe(2);
    const [row] = await eventsPerMinute(ch, { tenant: "token", fromMs: minute, toMs: minute + 60_000 });
    expect(row?.requests).toBe(2);
    // A different token is a different batch.
    await insertEvents(ch, batch, "partition-0-offsets-12-13");
    expect(await count("token", false)).toBe(4);
  });

  it("keeps events for 90 days only (TTL)", async () => {
    const day = 86_400_000;
    await insertEvents(ch, [
      sampleEvent({ tenant: "ttl", ts: Date.now() - 91 * day }),
      sampleEvent({ tenant: "ttl", ts: Date.now() - 89 * day }),
    ]);
    // Expired rows go at the next merge of their part.
    await ch.command("OPTIMIZE TABLE events FINAL");
    expect(await count("ttl", false)).toBe(1);
  });

  it("inserts nothing for an empty batch", async () => {
    await insertEvents(ch, []);
    expect(await count("nobody", false)).toBe(0);
  });
});
