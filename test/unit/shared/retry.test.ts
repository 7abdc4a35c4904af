import { describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { withRetry } from "../../../shared/retry.ts";

describe("withRetry", () => {
  it("retries a retryable failure until it succeeds", async () => {
    const attempts: number[] = [];
    const retried: number[] = [];
    const result = await withRetry(
      async (attempt) => {
        attempts.push(attempt);
        if (attempt < 3) throw new DependencyError("redis", true, "connection refused");
        return "ok";
      },
      { attempts: 5, baseDelayMs: 1, onRetry: (_e, attempt) => retried.push(attempt) },
    );
    expect(result).toBe("ok");
    expect(attempts).toEqual([1, 2, 3]);
    expect(retried).toEqual([1, 2]);
  });

  it("does not retry a non-retryable failure", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new DependencyError("clickhouse", false, "syntax error");
        },
        { attempts: 5, baseDelayMs: 1 },
      ),
    ).rejects.toThrow("syntax error");
    expect(calls).toBe(1);
  });

  it("gives up after the last attempt with the last error", async () => {
    let calls = 0;
    await expect(
      withRetry(
        async () => {
          calls++;
          throw new DependencyError("kafka", true, `down ${calls}`);
        },
        { attempts: 3, baseDelayMs: 1 },
      ),
    ).rejects.toThrow("down 3");
    expect(calls).toBe(3);
  });
});
