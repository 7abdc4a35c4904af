import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { createDatabase, type DatabaseHandle } from "../../../workers/db/client.ts";
import { type RequestRow, RequestRowWriter } from "../../../workers/db/request-rows.ts";
import { ensureLocalDatabase, localDbConfig, uniqueId } from "./local-db.ts";

const never = 10 * 60_000; // a flush interval no test waits for

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 50));
  }
}

function row(requestId: string): RequestRow {
  return { requestId, tenantId: "rows-test", status: 200, cache: "MISS", latencyMs: 1.5 };
}

describe("request rows, written in batches", () => {
  let handle: DatabaseHandle;

  /** The stored rows of these ids with the transaction that wrote each (xmin). */
  async function stored(ids: string[]) {
    const { rows } = await handle.pool.query<{ request_id: string; xmin: string; created_at: Date }>(
      "SELECT request_id, xmin::text AS xmin, created_at FROM requests WHERE request_id = ANY($1)",
      [ids],
    );
    return rows;
  }
  const allStored = (ids: string[]) => async () => {
    const rows = await stored(ids);
    return rows.length === ids.length ? rows : undefined;
  };

  beforeAll(async () => {
    await ensureLocalDatabase();
    handle = createDatabase(localDbConfig);
  });
  afterAll(async () => {
    await handle.pool.query("DELETE FROM requests WHERE tenant_id = 'rows-test'");
    await handle?.close();
  });

  it("writes the rows of one interval in a single multi-row insert", async () => {
    const writer = new RequestRowWriter(handle.db, { flushIntervalMs: 100 });
    const ids = [uniqueId("req"), uniqueId("req"), uniqueId("req")];
    for (const id of ids) writer.add(row(id));
    expect(writer.stats()).toMatchObject({ buffered: 3, written: 0 });

    const rows = await eventually(allStored(ids));
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1); // one statement, one transaction
    expect(rows.every((r) => r.created_at instanceof Date)).toBe(true);
    await eventually(async () => (writer.stats().written === 3 ? true : undefined));
    await writer.close();
    expect(writer.stats()).toEqual({ buffered: 0, inFlight: 0, written: 3, dropped: 0 });
  });

  it("stores every field of a row as given", async () => {
    const writer = new RequestRowWriter(handle.db, { flushIntervalMs: never });
    const id = uniqueId("req");
    const createdAt = new Date("2026-01-02T03:04:05.678Z");
    writer.add({
      requestId: id,
      tenantId: "rows-test",
      keyId: "key_rows",
      model: "tiergate-small",
      tier: "small",
      status: 429,
      cache: "HIT",
      latencyMs: 12.25,
      createdAt,
    });
    writer.add({ requestId: `${id}-bare`, status: 401, latencyMs: 0 });
    await writer.close();
    const { rows } = await handle.pool.query(
      "SELECT request_id, tenant_id, key_id, model, tier, status, cache, latency_ms, created_at FROM requests WHERE request_id = ANY($1) ORDER BY request_id",
      [[id, `${id}-bare`]],
    );
    expect(rows[0]).toEqual({
      request_id: id,
      tenant_id: "rows-test",
      key_id: "key_rows",
      model: "tiergate-small",
      tier: "small",
      status: 429,
      cache: "HIT",
      latency_ms: 12.25,
      created_at: createdAt,
    });
    expect(rows[1]).toMatchObject({ request_id: `${id}-bare`, tenant_id: null, key_id: null, status: 401 });
    expect(rows[1]?.created_at).toBeInstanceOf(Date);
    await handle.pool.query("DELETE FROM requests WHERE request_id = $1", [`${id}-bare`]);
  });

  it("writes a full batch at once without waiting for the interval", async () => {
    const writer = new RequestRowWriter(handle.db, { flushIntervalMs: never, maxBatchRows: 4 });
    const ids = Array.from({ length: 4 }, () => uniqueId("req"));
    for (const id of ids) writer.add(row(id));
    const rows = await eventually(allStored(ids));
    expect(new Set(rows.map((r) => r.xmin)).size).toBe(1);

    const rest = uniqueId("req");
    writer.add(row(rest));
    await eventually(async () => (writer.stats().written === 4 ? true : undefined));
    expect(writer.stats().buffered).toBe(1); // below the batch size: waits for the interval
    expect(await stored([rest])).toEqual([]);
    await writer.close();
  });

  it("close writes what is buffered; rows added after close are dropped and counted", async () => {
    const writer = new RequestRowWriter(handle.db, { flushIntervalMs: never });
    const ids = [uniqueId("req"), uniqueId("req")];
    for (const id of ids) writer.add(row(id));
    await writer.close();
    expect(await stored(ids)).toHaveLength(2);
    writer.add(row(uniqueId("req")));
    expect(writer.stats()).toEqual({ buffered: 0, inFlight: 0, written: 2, dropped: 1 });
  });

  it("a repeated request id is skipped without failing the rest of its batch", async () => {
    const writer = new RequestRowWriter(handle.db, { flushIntervalMs: never });
    const first = uniqueId("req");
    writer.add(row(first));
    await writer.flush();
    const second = uniqueId("req");
    writer.add({ ...row(first), status: 500 });
    writer.add(row(second));
    await writer.flush();
    expect((await stored([first, second])).map((r) => r.request_id).sort()).toEqual([first, second].sort());
    expect(writer.stats()).toMatchObject({ written: 3, dropped: 0 });
    await writer.close();
  });

  it("a request id is unique per tenant: another tenant's row with the same id is its own", async () => {
    const writer = new RequestRowWriter(handle.db, { flushIntervalMs: never });
    const id = uniqueId("req");
    writer.add({ ...row(id), tenantId: "tenant-a", clientRequestId: "client-1", status: 200 });
    writer.add({ ...row(id), tenantId: "tenant-b", status: 201 });
    writer.add({ ...row(id), tenantId: "tenant-a", status: 500 });
    await writer.close();
    const { rows } = await handle.pool.query(
      "SELECT tenant_id, status, client_request_id FROM requests WHERE request_id = $1 ORDER BY tenant_id",
      [id],
    );
    expect(rows).toEqual([
      { tenant_id: "tenant-a", status: 200, client_request_id: "client-1" },
      { tenant_id: "tenant-b", status: 201, client_request_id: null },
    ]);
  });

  it("with Postgres unreachable: drops and reports the rows, caps the buffer, never throws", async () => {
    // The proxy refuses any port but Postgres's, so this database is unreachable.
    const unreachable = createDatabase({
      ...localDbConfig,
      databaseUrl: localDbConfig.databaseUrl.replace(/:(\d+)\//, ":1/"),
      connectionTimeoutMs: 3_000,
    });
    const reasons: unknown[] = [];
    const writer = new RequestRowWriter(unreachable.db, {
      flushIntervalMs: never,
      maxBufferedRows: 3,
      onDrop: (rows, reason) => reasons.push({ rows, reason }),
    });
    try {
      for (let i = 0; i < 5; i++) writer.add(row(uniqueId("req")));
      expect(writer.stats()).toMatchObject({ buffered: 3, dropped: 2 });
      await writer.close();
      expect(writer.stats()).toEqual({ buffered: 0, inFlight: 0, written: 0, dropped: 5 });
      expect(reasons).toHaveLength(1);
      expect(reasons[0]).toMatchObject({ rows: 3, reason: { dependency: "postgres", retryable: true } });
      expect((reasons[0] as { reason: unknown }).reason).toBeInstanceOf(DependencyError);
    } finally {
      await unreachable.close();
    }
  });
});
