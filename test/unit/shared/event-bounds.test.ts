import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { feedbackEventSchema, requestEventSchema } from "../../../shared/events.ts";
import { repoRoot } from "../../stack/paths.ts";

const sampleEvent = () => ({
  event_id: "00000000-0000-4000-8000-000000000001",
  ts: 1_700_000_000_000,
  request_id: "req-1",
  tenant: "acme",
  user_id: "u",
  route: "chat",
  tier: "small",
  model: "m",
  model_version: "v",
  provider: "local",
  status: 200,
  cache: "MISS",
  fallback_reason: "",
  queue_ms: 1,
  ttft_ms: 2,
  latency_ms: 3,
  prompt_tokens: 4,
  completion_tokens: 5,
});

/** The largest finite Float32. */
const float32Max = 3.4028234663852886e38;

/** [min, max, integer] of a numeric ClickHouse type; undefined for other types. */
function rangeOf(type: string): [number, number, boolean] | undefined {
  const unsigned = /^UInt(8|16|32)$/.exec(type);
  if (unsigned) return [0, 2 ** Number(unsigned[1]) - 1, true];
  if (type === "Float32") return [-float32Max, float32Max, false];
  if (type.startsWith("DateTime64(3")) return [0, 10_413_791_999_999, true];
  return undefined;
}

/** Column → type of a table, from its CREATE TABLE and ADD COLUMN statements in the migrations. */
function columnsOf(table: string): Map<string, string> {
  const dir = join(repoRoot, "workers/clickhouse/migrations");
  const columns = new Map<string, string>();
  for (const file of readdirSync(dir).sort()) {
    const sql = readFileSync(join(dir, file), "utf8");
    const create = new RegExp(
      `CREATE TABLE IF NOT EXISTS \\{db:Identifier\\}\\.${table}\\s*\\(([\\s\\S]*?)\\n\\)`,
    ).exec(sql);
    for (const line of create?.[1]?.split("\n") ?? []) {
      const m = /^\s*(\w+)\s+([\w(), ']+?),?\s*$/.exec(line);
      if (m?.[1] && m[2]) columns.set(m[1], m[2].trim());
    }
    const adds = sql.matchAll(
      new RegExp(
        `ALTER TABLE \\{db:Identifier\\}\\.${table} ADD COLUMN IF NOT EXISTS (\\w+) ([\\w()]+)`,
        "g",
      ),
    );
    for (const m of adds) if (m[1] && m[2]) columns.set(m[1], m[2]);
  }
  return columns;
}

function checkBounds(schema: z.ZodType, valid: Record<string, unknown>, table: string): string[] {
  const checked: string[] = [];
  for (const [column, type] of columnsOf(table)) {
    const range = rangeOf(type.replace(/^Array\((.*)\)$/, "$1"));
    if (!range || !(column in (schema as z.ZodObject).shape)) continue;
    const isArray = type.startsWith("Array(");
    const wrap = (v: number) => ({ ...valid, [column]: isArray ? [v] : v });
    const [min, max, integer] = range;
    // Every value the schema accepts must fit the column.
    for (const outside of [max * 2 + 1, min - 1, min * 2 - 1]) {
      if (outside < min || outside > max)
        expect(schema.safeParse(wrap(outside)).success, `${column}=${outside}`).toBe(false);
    }
    if (integer) expect(schema.safeParse(wrap(0.5)).success, `${column}=0.5`).toBe(false);
    checked.push(column);
  }
  return checked;
}

describe("event schemas match the ClickHouse column types", () => {
  it("request events: every numeric column of `events` refuses values its type cannot hold", () => {
    const checked = checkBounds(requestEventSchema, sampleEvent(), "events");
    expect(checked).toEqual(
      expect.arrayContaining([
        "ts",
        "status",
        "queue_ms",
        "ttft_ms",
        "latency_ms",
        "prompt_tokens",
        "completion_tokens",
        "prompt_chars",
        "answer_chars",
        "prompt_projection",
      ]),
    );
    expect(requestEventSchema.safeParse({ ...sampleEvent(), status: 65_535 }).success).toBe(true);
    expect(requestEventSchema.safeParse({ ...sampleEvent(), status: 65_536 }).success).toBe(false);
  });

  it("feedback: every numeric column of `feedback` refuses values its type cannot hold", () => {
    const valid = {
      feedback_id: "00000000-0000-4000-8000-000000000000",
      ts: 1_700_000_000_000,
      request_id: "r",
      tenant: "t",
      user_id: "",
      rating: 1,
      label: "",
      comment: "",
    };
    expect(feedbackEventSchema.safeParse(valid).success).toBe(true);
    expect(checkBounds(feedbackEventSchema, valid, "feedback")).toEqual(
      expect.arrayContaining(["ts", "rating"]),
    );
  });
});
