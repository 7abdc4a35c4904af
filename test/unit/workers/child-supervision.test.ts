import { describe, expect, it } from "vitest";
import {
  type ChildExit,
  defaultRestartPolicy,
  exitVerdict,
  superviseChild,
} from "../../../workers/pool/child-supervision.ts";

const policy = { baseDelayMs: 1, maxDelayMs: 4, stableMs: 60_000 };

describe("child restart policy", () => {
  it("backs off early exits, restarts a stable one at once, and stops the pool on a config error", () => {
    expect(exitVerdict({ code: 1, upMs: 500 })).toBe("back-off");
    expect(exitVerdict({ code: null, signal: "SIGKILL", upMs: defaultRestartPolicy.stableMs - 1 })).toBe(
      "back-off",
    );
    expect(exitVerdict({ code: 1, upMs: defaultRestartPolicy.stableMs })).toBe("restart-now");
    expect(exitVerdict({ code: 78, upMs: 120_000 })).toBe("stop-pool");
  });

  it("counts consecutive early exits, and starts the count over after a stable run", async () => {
    const runs: ChildExit[] = [
      { code: 1, upMs: 10 },
      { code: 1, upMs: 10 },
      { code: 1, upMs: 10 },
      { code: 1, upMs: 61_000 }, // up for a minute: the streak ends
      { code: 1, upMs: 10 },
      { code: 1, upMs: 10 },
    ];
    const streaks: number[] = [];
    const stop = new AbortController();
    let started = 0;
    const outcome = await superviseChild({
      policy,
      signal: stop.signal,
      run: async () => {
        const exit = runs[started++];
        if (!exit) {
          stop.abort();
          return { code: 0, upMs: 0 };
        }
        return exit;
      },
      onRestart: (_exit, streak) => streaks.push(streak),
    });
    expect(outcome).toBe("stopped");
    expect(streaks).toEqual([1, 2, 3, 0, 1, 2]);
    expect(started).toBe(7);
  });

  it("stops supervising when the child refuses its configuration", async () => {
    let started = 0;
    const outcome = await superviseChild({
      policy,
      signal: new AbortController().signal,
      run: async () => (++started < 3 ? { code: 1, upMs: 5 } : { code: 78, upMs: 5 }),
    });
    expect(outcome).toBe("stop-pool");
    expect(started).toBe(3);
  });
});
