import { describe, expect, it } from "vitest";
import { withDeadline } from "../../../edge/lib/deadline.ts";

function resolveAfter<T>(ms: number, value: T): Promise<T> {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

/** Keeps the event loop busy, as a burst of other requests would. */
function busy(ms: number): void {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    // spin
  }
}

describe("withDeadline", () => {
  it("gives the work's value when it comes in time", async () => {
    expect(await withDeadline(resolveAfter(1, "value"), 50, "late")).toBe("value");
  });

  it("gives the late value when the work never settles", async () => {
    expect(await withDeadline(new Promise<string>(() => {}), 5, "late")).toBe("late");
  });

  it("does not count time the event loop was too busy to look: a reply queued behind the busy spell wins", async () => {
    const result = withDeadline(resolveAfter(8, "value"), 5, "late");
    busy(40); // both timers are overdue when the loop is free again; the deadline's fires first
    expect(await result).toBe("value");
  });

  it("still expires when the work stays silent after the busy spell", async () => {
    const result = withDeadline(new Promise<string>(() => {}), 5, "late");
    busy(40);
    expect(await result).toBe("late");
  });
});
