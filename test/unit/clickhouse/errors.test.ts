import { ClickHouseError } from "@clickhouse/client-web";
import { describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { HttpStatusError, toDependencyError } from "../../../workers/clickhouse/errors.ts";
import { splitStatements } from "../../../workers/clickhouse/migrate.ts";

const serverError = (type: string, code = "1") =>
  new ClickHouseError({ message: `${type} happened`, code, type });

describe("ClickHouse error mapping", () => {
  it.each(["SYNTAX_ERROR", "UNKNOWN_TABLE", "TYPE_MISMATCH", "CANNOT_PARSE_TEXT", "UNKNOWN_IDENTIFIER"])(
    "%s is not retryable",
    (type) => {
      const error = toDependencyError(serverError(type), "query failed");
      expect(error).toBeInstanceOf(DependencyError);
      expect(error.dependency).toBe("clickhouse");
      expect(error.retryable).toBe(false);
      expect(error.message).toContain(type);
    },
  );

  it.each([
    "TOO_MANY_SIMULTANEOUS_QUERIES",
    "TOO_MANY_PARTS",
    "TIMEOUT_EXCEEDED",
    "MEMORY_LIMIT_EXCEEDED",
    "NETWORK_ERROR",
  ])("%s is retryable", (type) => {
    expect(toDependencyError(serverError(type), "insert failed").retryable).toBe(true);
  });

  it("treats HTTP 5xx and 429 from something in between as retryable, 4xx as not", () => {
    expect(toDependencyError(new HttpStatusError(502, "bad gateway"), "q").retryable).toBe(true);
    expect(toDependencyError(new HttpStatusError(429, "slow down"), "q").retryable).toBe(true);
    expect(toDependencyError(new HttpStatusError(403, "forbidden"), "q").retryable).toBe(false);
  });

  it("treats failures without a server verdict (refused, timeout) as retryable", () => {
    expect(toDependencyError(new TypeError("fetch failed"), "q").retryable).toBe(true);
    expect(toDependencyError(new Error("Timeout error."), "q").retryable).toBe(true);
  });

  it("passes a DependencyError through unchanged", () => {
    const original = new DependencyError("clickhouse", false, "row 0 does not match");
    expect(toDependencyError(original, "q")).toBe(original);
  });
});

describe("migration statement splitting", () => {
  it("splits on semicolons at line ends and drops comment lines", () => {
    const sql =
      "-- header; with a semicolon\nCREATE TABLE a (x UInt8) ENGINE = Memory;\n\n-- next\nCREATE VIEW b AS SELECT ';' AS s;\n";
    expect(splitStatements(sql)).toEqual([
      "CREATE TABLE a (x UInt8) ENGINE = Memory",
      "CREATE VIEW b AS SELECT ';' AS s",
    ]);
  });
});
