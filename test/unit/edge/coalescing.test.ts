import type { Redis } from "@upstash/redis/cloudflare";
import { afterEach, describe, expect, it, vi } from "vitest";
import { RecentEntries } from "../../../edge/lib/recent-entries.ts";
import { ResponseCache } from "../../../edge/services/response-cache.ts";

function cache(): ResponseCache {
  return new ResponseCache({} as Redis, {
    defaultTtlSeconds: 60,
    deadlineMs: 10,
    recent: new RecentEntries({ ttlMs: 0, maxEntries: 1, maxChars: 1 }),
  });
}

afterEach(() => vi.useRealTimers());

describe("request coalescing", () => {
  it("forgets a flight whose leader was cancelled once the leader's deadline passes", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const responses = cache();
    const now = Date.now();
    responses.lead("k", now + 1_000);
    // The leader never calls share (its request was cancelled). Until its deadline, others follow it.
    expect(responses.follow("k", now + 60_000)).toBeDefined();
    vi.setSystemTime(now + 1_001);
    expect(responses.follow("k", now + 60_000)).toBeUndefined();
  });

  it("a follower of a cancelled leader stops waiting at the leader's deadline, not its own", async () => {
    const responses = cache();
    responses.lead("k", Date.now() + 50);
    const followed = responses.follow("k", Date.now() + 60_000);
    await expect(followed).resolves.toBeNull();
  });

  it("a leader that shares wakes its followers", async () => {
    const responses = cache();
    const lead = responses.lead("k", Date.now() + 60_000);
    const followed = responses.follow("k", Date.now() + 60_000);
    lead.share("body");
    await expect(followed).resolves.toBe("body");
  });
});
