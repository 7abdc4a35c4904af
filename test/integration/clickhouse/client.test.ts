import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { clickhouseService } from "../../stack/services/clickhouse.ts";
import { ensureClickHouse, localClient } from "./local-clickhouse.ts";

async function failure(promise: Promise<unknown>): Promise<DependencyError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(DependencyError);
  return error as DependencyError;
}

describe("ClickHouse wrapper", () => {
  const ch = localClient("default");

  beforeAll(ensureClickHouse);
  afterAll(async () => {
    await ch.close();
    await ensureClickHouse();
  });

  it("round-trips typed parameters", async () => {
    const params = {
      text: 'it\'s a "quote"; DROP TABLE x; --',
      count: 4_000_000_000,
      big: 9_007_199_254_740_991,
      ratio: 0.125,
      at: "2026-03-04 05:06:07.089",
      tags: ["a", "b,c", "d'e"],
      id: "0b7d9d2e-5f1c-4c8e-9a0e-2f4b1f0c6d3a",
      flag: true,
    };
    const rows = await ch.query(
      `SELECT {text:String} AS text, {count:UInt32} AS count, {big:UInt64} AS big, {ratio:Float64} AS ratio,
              toUnixTimestamp64Milli({at:DateTime64(3, 'UTC')}) AS at_ms, {tags:Array(String)} AS tags,
              {id:UUID} AS id, {flag:Bool} AS flag`,
      params,
      z.object({
        text: z.string(),
        count: z.number(),
        big: z.number(),
        ratio: z.number(),
        at_ms: z.number(),
        tags: z.array(z.string()),
        id: z.string(),
        flag: z.boolean(),
      }),
    );
    expect(rows).toEqual([
      {
        text: params.text,
        count: params.count,
        big: params.big,
        ratio: params.ratio,
        at_ms: Date.UTC(2026, 2, 4, 5, 6, 7, 89),
        tags: params.tags,
        id: params.id,
        flag: true,
      },
    ]);
  });

  it("returns every row of a multi-row result", async () => {
    const rows = await ch.query(
      "SELECT number AS n FROM system.numbers LIMIT {limit:UInt8}",
      { limit: 5 },
      z.object({ n: z.number() }),
    );
    expect(rows.map((r) => r.n)).toEqual([0, 1, 2, 3, 4]);
  });

  it("rejects a row that does not match the schema, naming the column", async () => {
    const error = await failure(
      ch.query("SELECT 1 AS n, 'x' AS s", {}, z.object({ n: z.string(), s: z.string() })),
    );
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("column n");
  });

  it("reports SQL errors as not retryable", async () => {
    const syntax = await failure(ch.query("SELEC 1", {}, z.object({})));
    expect(syntax.retryable).toBe(false);
    expect(syntax.message).toContain("SYNTAX_ERROR");
    const unknownTable = await failure(ch.command("INSERT INTO default.no_such_table VALUES (1)"));
    expect(unknownTable.retryable).toBe(false);
    const badParam = await failure(ch.query("SELECT {n:UInt8} AS n", { n: "not a number" }, z.object({})));
    expect(badParam.retryable).toBe(false);
  });

  it("refuses a table name that is not an identifier", async () => {
    await expect(ch.insert("events; DROP TABLE events", [{ a: 1 }])).rejects.toThrow(
      /invalid ClickHouse table name/,
    );
  });

  it("answers ping while the server runs", async () => {
    expect(await ch.ping()).toBe(true);
  });

  it("fails fast with a retryable error while the server is stopped", { timeout: 30_000 }, async () => {
    await clickhouseService.stop();
    try {
      // A long request timeout: only a refused connection (not a timeout) can end this test in time.
      const slowToGiveUp = localClient("default", 60_000);
      const error = await failure(slowToGiveUp.query("SELECT 1 AS n", {}, z.object({ n: z.number() })));
      expect(error.retryable).toBe(true);
      expect(error.dependency).toBe("clickhouse");
      expect(await slowToGiveUp.ping()).toBe(false);
      const insertError = await failure(slowToGiveUp.insert("default.t", [{ a: 1 }]));
      expect(insertError.retryable).toBe(true);
    } finally {
      await clickhouseService.start();
    }
    expect(await ch.ping()).toBe(true);
  });
});
