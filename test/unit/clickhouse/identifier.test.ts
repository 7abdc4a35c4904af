import { describe, expect, it } from "vitest";
import { assertIdentifier, isIdentifier } from "../../../workers/clickhouse/identifier.ts";

describe("ClickHouse identifier validation", () => {
  it.each(["events", "tiergate.events", "_t1", "Events_By_Minute", "db_2.t_3"])("accepts %s", (name) => {
    expect(isIdentifier(name)).toBe(true);
    expect(assertIdentifier(name)).toBe(name);
  });

  it.each([
    "",
    "1events",
    "events; DROP TABLE events",
    "events--",
    "a.b.c",
    "`events`",
    "events ",
    "db.",
    ".events",
    "évents",
    "events\n",
    "x".repeat(129),
  ])("rejects %j", (name) => {
    expect(isIdentifier(name)).toBe(false);
    expect(() => assertIdentifier(name, "table name")).toThrow(/invalid ClickHouse table name/);
  });
});
