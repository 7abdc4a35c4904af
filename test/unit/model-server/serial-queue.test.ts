import { describe, expect, it } from "vitest";
import { QueueAbortedError, QueueFullError, SerialQueue } from "../../stack/model-server/serial-queue.ts";

function deferred() {
  let release = () => {};
  const done = new Promise<void>((resolve) => {
    release = resolve;
  });
  return { done, release };
}

describe("SerialQueue", () => {
  it("runs one job at a time in arrival order and counts running and waiting per label", async () => {
    const queue = new SerialQueue(10);
    const order: string[] = [];
    const first = deferred();
    const a = queue.run("small", async () => {
      order.push("a");
      await first.done;
    });
    const b = queue.run("large", async () => {
      order.push("b");
    });
    const c = queue.run("small", async () => {
      order.push("c");
    });
    await Promise.resolve();
    expect(order).toEqual(["a"]);
    expect(queue.running("small")).toBe(1);
    expect(queue.running("large")).toBe(0);
    expect(queue.waiting()).toBe(2);
    expect(queue.waiting("small")).toBe(1);
    expect(queue.waiting("large")).toBe(1);
    first.release();
    await Promise.all([a, b, c]);
    expect(order).toEqual(["a", "b", "c"]);
    expect(queue.running()).toBe(0);
    expect(queue.waiting()).toBe(0);
  });

  it("refuses jobs beyond the waiting limit and reports itself full", async () => {
    const queue = new SerialQueue(1);
    const gate = deferred();
    const running = queue.run("m", () => gate.done);
    const waiting = queue.run("m", async () => "second");
    expect(queue.full()).toBe(true);
    await expect(queue.run("m", async () => "third")).rejects.toBeInstanceOf(QueueFullError);
    gate.release();
    await running;
    expect(await waiting).toBe("second");
    expect(queue.full()).toBe(false);
  });

  it("drops a waiting job whose signal aborts, and passes the slot on after a failing job", async () => {
    const queue = new SerialQueue(5);
    const gate = deferred();
    const running = queue.run("m", async () => {
      await gate.done;
      throw new Error("boom");
    });
    const abort = new AbortController();
    let ran = false;
    const dropped = queue.run(
      "m",
      async () => {
        ran = true;
      },
      abort.signal,
    );
    const next = queue.run("m", async () => "next");
    abort.abort();
    await expect(dropped).rejects.toBeInstanceOf(QueueAbortedError);
    expect(queue.waiting()).toBe(1);
    gate.release();
    await expect(running).rejects.toThrow("boom");
    expect(await next).toBe("next");
    expect(ran).toBe(false);
  });
});
