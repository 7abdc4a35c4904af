import { describe, expect, it } from "vitest";
import { RecentEntries } from "../../../edge/lib/recent-entries.ts";

describe("RecentEntries (the response cache's memory tier)", () => {
  it("serves an entry until its TTL has passed, then forgets it", () => {
    const recent = new RecentEntries({ ttlMs: 1_000, maxEntries: 10, maxChars: 1_000 });
    recent.put("a", "body-a", 5_000);
    expect(recent.get("a", 5_999)).toBe("body-a");
    expect(recent.get("a", 6_000)).toBeUndefined();
    expect(recent.size).toBe(0);
  });

  it("drops the oldest entries past the entry bound", () => {
    const recent = new RecentEntries({ ttlMs: 60_000, maxEntries: 2, maxChars: 1_000 });
    recent.put("a", "1", 0);
    recent.put("b", "2", 0);
    recent.put("c", "3", 0);
    expect([recent.get("a", 1), recent.get("b", 1), recent.get("c", 1)]).toEqual([undefined, "2", "3"]);
  });

  it("drops the oldest entries past the character bound, and never holds one larger than it", () => {
    const recent = new RecentEntries({ ttlMs: 60_000, maxEntries: 100, maxChars: 10 });
    recent.put("a", "aaaa", 0);
    recent.put("b", "bbbb", 0);
    recent.put("c", "cccc", 0);
    expect(recent.get("a", 1)).toBeUndefined();
    expect(recent.get("c", 1)).toBe("cccc");
    recent.put("huge", "x".repeat(11), 0);
    expect(recent.get("huge", 1)).toBeUndefined();
    expect(recent.get("c", 1)).toBe("cccc");
  });

  it("replaces an entry put again, counting only its new size", () => {
    const recent = new RecentEntries({ ttlMs: 60_000, maxEntries: 100, maxChars: 8 });
    recent.put("a", "aaaa", 0);
    recent.put("a", "AAAAAA", 0);
    recent.put("b", "bb", 0);
    expect([recent.get("a", 1), recent.get("b", 1)]).toEqual(["AAAAAA", "bb"]);
  });

  it("holds nothing when its TTL is 0", () => {
    const recent = new RecentEntries({ ttlMs: 0, maxEntries: 100, maxChars: 100 });
    recent.put("a", "body", 0);
    expect(recent.get("a", 0)).toBeUndefined();
  });
});
