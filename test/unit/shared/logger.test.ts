import { describe, expect, it } from "vitest";
import { createLogger, type LogLevel, parseLogLevel } from "../../../shared/logger.ts";

/** A logger whose lines are kept, parsed, with the level each was written at. */
function capture(level?: LogLevel) {
  const lines: { level: LogLevel; raw: string; json: Record<string, unknown> }[] = [];
  const logger = createLogger({
    level,
    bindings: { service: "test" },
    now: () => new Date("2026-01-02T03:04:05.678Z"),
    sink: (at, raw) => lines.push({ level: at, raw, json: JSON.parse(raw) }),
  });
  return { logger, lines };
}

describe("logger", () => {
  it("writes one JSON object per line with level, time, message, bindings and fields", () => {
    const { logger, lines } = capture();
    logger.info("hello", { count: 3 });
    expect(lines).toHaveLength(1);
    expect(lines[0]?.raw).not.toContain("\n");
    expect(lines[0]?.json).toEqual({
      level: "info",
      time: "2026-01-02T03:04:05.678Z",
      msg: "hello",
      service: "test",
      count: 3,
    });
  });

  it("drops lines below its level; info by default", () => {
    const byDefault = capture();
    byDefault.logger.debug("hidden");
    byDefault.logger.info("shown");
    expect(byDefault.lines.map((l) => l.json.msg)).toEqual(["shown"]);

    const warn = capture("warn");
    warn.logger.debug("d");
    warn.logger.info("i");
    warn.logger.warn("w");
    warn.logger.error("e");
    expect(warn.lines.map((l) => [l.level, l.json.level])).toEqual([
      ["warn", "warn"],
      ["error", "error"],
    ]);

    const debug = capture("debug");
    debug.logger.debug("d");
    expect(debug.lines.map((l) => l.json.msg)).toEqual(["d"]);
  });

  it("binds context on children without changing the parent; later bindings win", () => {
    const { logger, lines } = capture();
    const request = logger.child({ request_id: "req_1" });
    const tenant = request.child({ tenant: "acme", service: "edge" });
    tenant.warn("from the child");
    request.info("from the request");
    logger.info("from the root");
    expect(lines.map((l) => l.json)).toEqual([
      expect.objectContaining({
        msg: "from the child",
        request_id: "req_1",
        tenant: "acme",
        service: "edge",
      }),
      expect.objectContaining({ msg: "from the request", request_id: "req_1", service: "test" }),
      expect.objectContaining({ msg: "from the root", service: "test" }),
    ]);
    expect(lines[1]?.json).not.toHaveProperty("tenant");
    expect(lines[2]?.json).not.toHaveProperty("request_id");
  });

  it("never writes a secret: credential-like fields and bindings are redacted", () => {
    const { logger, lines } = capture();
    const secret = "tg_supersecretvalue0123456789";
    logger.child({ api_key: secret }).error("boom", {
      authorization: `Bearer ${secret}`,
      POOL_SIGNING_SECRET: secret,
      password: secret,
      upstashToken: secret,
      "x-tiergate-signature": secret,
      tenant: "acme",
    });
    expect(lines[0]?.raw).not.toContain(secret);
    expect(lines[0]?.json).toMatchObject({
      api_key: "[redacted]",
      authorization: "[redacted]",
      POOL_SIGNING_SECRET: "[redacted]",
      password: "[redacted]",
      upstashToken: "[redacted]",
      "x-tiergate-signature": "[redacted]",
      tenant: "acme",
    });
  });

  it("flattens errors (with their cause) and bigints, and leaves out undefined fields", () => {
    const { logger, lines } = capture();
    const error = new TypeError("outer", { cause: new Error("inner") });
    logger.error("failed", { error, offset: 12n, missing: undefined });
    expect(lines[0]?.json).toMatchObject({
      error: { name: "TypeError", message: "outer", cause: { name: "Error", message: "inner" } },
      offset: "12",
    });
    expect(lines[0]?.json).not.toHaveProperty("missing");
  });

  it("parses LOG_LEVEL, falling back to info", () => {
    expect(parseLogLevel("debug")).toBe("debug");
    expect(parseLogLevel("error")).toBe("error");
    expect(parseLogLevel(undefined)).toBe("info");
    expect(parseLogLevel("verbose")).toBe("info");
  });
});
