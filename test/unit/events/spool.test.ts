import { appendFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { Spool, spoolDirBytes } from "../../../workers/events/spool.ts";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "tiergate-spool-"));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

const records = (from: number, count: number) =>
  Array.from({ length: count }, (_, i) => ({ n: from + i, pad: "x".repeat(40) }));

/** Reads and commits everything, returning the records in order. */
async function drain(spool: Spool, batch = 7): Promise<unknown[]> {
  const out: unknown[] = [];
  for (let guard = 0; guard < 10_000; guard++) {
    const { records: got, position } = await spool.read(batch);
    out.push(...got);
    await spool.commit(position);
    if (spool.isEmpty()) return out;
  }
  throw new Error("spool did not drain");
}

describe("Spool file format", () => {
  it("writes one JSON value per line into seg-<12 digits>.jsonl", async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 << 20 });
    await spool.append([{ a: 1 }, { b: "two" }]);
    expect(readdirSync(dir)).toContain("seg-000000000001.jsonl");
    expect(readFileSync(join(dir, "seg-000000000001.jsonl"), "utf8")).toBe('{"a":1}\n{"b":"two"}\n');
    expect(spool.stats()).toMatchObject({ records: 2, bytes: 20, dropped: 0 });
  });

  it("rotates segments past segmentBytes and replays across them in order", async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1024 });
    for (let i = 0; i < 10; i++) await spool.append(records(i * 20, 20));
    expect(readdirSync(dir).filter((n) => n.endsWith(".jsonl")).length).toBeGreaterThan(5);
    const out = await drain(spool);
    expect(out.map((r) => (r as { n: number }).n)).toEqual(Array.from({ length: 200 }, (_, i) => i));
    // Delivered segments are deleted; at most the (empty) segment being written is left.
    expect(readdirSync(dir).filter((n) => n.endsWith(".jsonl")).length).toBeLessThanOrEqual(1);
    expect(spool.stats().records).toBe(0);
  });

  it("read does not consume: without commit the same records come again", async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 << 20 });
    await spool.append(records(0, 5));
    const first = await spool.read(3);
    const again = await spool.read(3);
    expect(again.records).toEqual(first.records);
    await spool.commit(first.position);
    expect((await spool.read(10)).records.map((r) => (r as { n: number }).n)).toEqual([3, 4]);
  });

  it("recovers cursor and segments after a restart, skipping a torn last line", async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1024 });
    await spool.append(records(0, 50));
    const { position } = await spool.read(10);
    await spool.commit(position);
    const segments = readdirSync(dir)
      .filter((n) => n.endsWith(".jsonl"))
      .sort();
    appendFileSync(join(dir, segments.at(-1) ?? ""), '{"n": 99, "torn');

    const reopened = await Spool.open({ dir, maxBytes: 1 << 20, segmentBytes: 1024 });
    expect(reopened.stats().records).toBe(41); // 40 left + the torn line
    await reopened.append([{ n: 50 }]);
    const out: unknown[] = [];
    let corrupt = 0;
    while (!reopened.isEmpty()) {
      const batch = await reopened.read(8);
      out.push(...batch.records);
      corrupt += batch.corrupt;
      await reopened.commit(batch.position);
    }
    expect(corrupt).toBe(1);
    expect(out.map((r) => (r as { n: number }).n)).toEqual([
      ...Array.from({ length: 40 }, (_, i) => i + 10),
      50,
    ]);
  });

  it("ignores a cursor file that points before the oldest segment", async () => {
    const spool = await Spool.open({ dir, maxBytes: 1 << 20 });
    await spool.append(records(0, 3));
    writeFileSync(join(dir, "cursor.json"), JSON.stringify({ segment: 0, offset: 5, line: 1 }));
    const reopened = await Spool.open({ dir, maxBytes: 1 << 20 });
    expect((await drain(reopened)).length).toBe(3);
  });
});

describe("Spool bound", () => {
  it("keeps the files under maxBytes, drops the oldest segments and counts the dropped records", async () => {
    const maxBytes = 4096;
    const spool = await Spool.open({ dir, maxBytes, segmentBytes: 1024 });
    const total = 400;
    for (let i = 0; i < total; i += 10) {
      await spool.append(records(i, 10));
      expect(await spoolDirBytes(dir)).toBeLessThanOrEqual(maxBytes);
    }
    const { dropped, records: left } = spool.stats();
    expect(dropped).toBeGreaterThan(0);
    expect(dropped + left).toBe(total);
    const out = (await drain(spool)).map((r) => (r as { n: number }).n);
    expect(out.length).toBe(left);
    // What is left is the newest, in order.
    expect(out).toEqual(Array.from({ length: left }, (_, i) => total - left + i));
  });

  it("counts records read but not yet committed as dropped when their segment goes", async () => {
    const spool = await Spool.open({ dir, maxBytes: 2048, segmentBytes: 1024 });
    await spool.append(records(0, 20));
    const first = await spool.read(5);
    await spool.commit(first.position);
    for (let i = 20; i < 100; i += 10) await spool.append(records(i, 10));
    const { dropped, records: left } = spool.stats();
    expect(dropped + left).toBe(95);
    // A commit for a segment that was dropped meanwhile is ignored.
    await spool.commit(first.position);
    expect(spool.stats().records).toBe(left);
  });

  it("keeps only the newest records of a batch larger than the whole bound", async () => {
    const spool = await Spool.open({ dir, maxBytes: 1024 });
    await spool.append(records(0, 100));
    const { dropped, records: left } = spool.stats();
    expect(left).toBeGreaterThan(0);
    expect(dropped + left).toBe(100);
    const out = (await drain(spool)).map((r) => (r as { n: number }).n);
    expect(out.at(-1)).toBe(99);
  });
});
