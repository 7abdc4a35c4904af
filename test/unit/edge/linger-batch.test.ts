import { describe, expect, it } from "vitest";
import { LingerBatch } from "../../../edge/lib/linger-batch.ts";

describe("LingerBatch", () => {
  it("sends items queued during the linger together, in calls of at most maxPerCall", async () => {
    const calls: number[][] = [];
    const batch = new LingerBatch<number>(async (items) => void calls.push(items), 5, 2);
    const started = [1, 2, 3].map((n) => batch.add(n));
    expect(started[0]).toBeInstanceOf(Promise);
    expect(started.slice(1)).toEqual([null, null]);
    await started[0];
    expect(calls).toEqual([[1, 2], [3]]);
    expect(batch.queued).toBe(0);
  });

  it("drops the queue and rejects the starter's promise when a send fails; the next item starts anew", async () => {
    let fail = true;
    const sent: number[][] = [];
    const batch = new LingerBatch<number>(
      async (items) => {
        if (fail) throw new Error("down");
        sent.push(items);
      },
      1,
      1,
    );
    const first = batch.add(1);
    batch.add(2);
    await expect(first).rejects.toThrow("down");
    expect(batch.queued).toBe(0);
    fail = false;
    await batch.add(3);
    expect(sent).toEqual([[3]]);
  });
});
