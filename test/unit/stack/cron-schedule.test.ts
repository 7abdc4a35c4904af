import { describe, expect, it } from "vitest";
import { nextRun, parseCron } from "../../stack/cron-schedule.ts";
import { wranglerCrons } from "../../stack/workerd-edge.ts";

const at = (iso: string) => Date.parse(iso);
const iso = (ms: number) => new Date(ms).toISOString();

describe("cron schedule (Workers' cron triggers, UTC)", () => {
  it("reads wrangler.toml's top-level crons, not an environment's", () => {
    expect(wranglerCrons()).toEqual(["*/10 * * * *"]);
  });

  it("fires */10 at the next ten-minute boundary, strictly after the given time", () => {
    const every10 = parseCron("*/10 * * * *");
    expect(iso(nextRun(every10, at("2026-12-06T04:41:17Z")))).toBe("2026-12-06T04:50:00.000Z");
    expect(iso(nextRun(every10, at("2026-12-06T04:50:00Z")))).toBe("2026-12-06T05:00:00.000Z");
    expect(iso(nextRun(every10, at("2026-12-31T23:55:00Z")))).toBe("2027-01-01T00:00:00.000Z");
  });

  it("handles lists, ranges, steps over ranges and weekdays (7 is Sunday)", () => {
    expect(iso(nextRun(parseCron("15,45 9-17 * * 1-5"), at("2026-12-05T12:00:00Z")))).toBe(
      "2026-12-07T09:15:00.000Z",
    );
    expect(iso(nextRun(parseCron("0 0 * * 7"), at("2026-12-01T00:00:00Z")))).toBe("2026-12-06T00:00:00.000Z");
    expect(iso(nextRun(parseCron("0 10-20/5 * * *"), at("2026-12-06T10:00:00Z")))).toBe(
      "2026-12-06T15:00:00.000Z",
    );
  });

  it("treats a restricted day-of-month and day-of-week as either", () => {
    // 2026-12-07 is a Monday, before the 13th.
    expect(iso(nextRun(parseCron("0 0 13 * 1"), at("2026-12-06T12:00:00Z")))).toBe(
      "2026-12-07T00:00:00.000Z",
    );
  });

  it("accepts a leading seconds field", () => {
    expect(iso(nextRun(parseCron("*/3 * * * * *"), at("2026-12-06T04:41:17.500Z")))).toBe(
      "2026-12-06T04:41:18.000Z",
    );
  });

  it("refuses malformed expressions", () => {
    for (const bad of ["* * * *", "60 * * * *", "*/0 * * * *", "a * * * *", "5-1 * * * *", "* * 32 * *"]) {
      expect(() => parseCron(bad)).toThrow();
    }
  });
});
