import { randomUUID } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import type { RequestEvent } from "../../../shared/events.ts";
import { Spool } from "../../../workers/events/spool.ts";
import { drainSpool } from "../../../workers/events/spool-replay.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tiergate-replay-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

function event(n: number): RequestEvent {
  return {
    event_id: randomUUID(),
    ts: 1_700_000_000_000 + n,
    request_id: `req-${n}`,
    tenant: "t",
    user_id: "",
    route: "chat",
    tier: "small",
    model: "m",
    model_version: "",
    provider: "local",
    status: 200,
    cache: "MISS",
    fallback_reason: "",
    queue_ms: 0,
    ttft_ms: 1,
    latency_ms: 2,
    prompt_tokens: 1,
    completion_tokens: 1,
  };
}

async function filled(count: number): Promise<{ spool: Spool; events: RequestEvent[] }> {
  const spool = await Spool.open({ dir, maxBytes: 1 << 20 });
  const events = Array.from({ length: count }, (_, n) => event(n));
  await spool.append(events);
  return { spool, events };
}

const refused = () => new DependencyError("kafka", false, "record refused");

describe("drainSpool", () => {
  it("sends everything oldest first and empties the spool", async () => {
    const { spool, events } = await filled(25);
    const sent: string[] = [];
    await drainSpool({
      spool,
      batchSize: 10,
      onLost: () => {},
      send: async (b) => void sent.push(...b.map((e) => e.request_id)),
    });
    expect(sent).toEqual(events.map((e) => e.request_id));
    expect(spool.isEmpty()).toBe(true);
  });

  it("isolates events Kafka refuses for good: they are counted lost and the rest is delivered", async () => {
    const { spool, events } = await filled(20);
    const poison = new Set(["req-3", "req-11"]);
    const sent: string[] = [];
    let lost = 0;
    await drainSpool({
      spool,
      batchSize: 8,
      onLost: (count) => {
        lost += count;
      },
      send: async (batch) => {
        if (batch.some((e) => poison.has(e.request_id))) throw refused();
        sent.push(...batch.map((e) => e.request_id));
      },
    });
    expect(lost).toBe(2);
    expect(sent.sort()).toEqual(
      events
        .map((e) => e.request_id)
        .filter((id) => !poison.has(id))
        .sort(),
    );
    expect(spool.isEmpty()).toBe(true);
  });

  it("keeps the spool when every event is refused (a failure of the connection, not of events)", async () => {
    const { spool } = await filled(5);
    await expect(
      drainSpool({ spool, batchSize: 10, onLost: () => {}, send: async () => Promise.reject(refused()) }),
    ).rejects.toThrow(/record refused/);
    expect(spool.stats().records).toBe(5);
  });

  it("throws a retryable failure without committing the round", async () => {
    const { spool } = await filled(5);
    const down = new DependencyError("kafka", true, "ECONNREFUSED");
    await expect(
      drainSpool({ spool, batchSize: 10, onLost: () => {}, send: async () => Promise.reject(down) }),
    ).rejects.toBe(down);
    expect(spool.stats().records).toBe(5);
  });
});
