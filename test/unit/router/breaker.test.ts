import { describe, expect, it } from "vitest";
import { CircuitBreaker } from "../../../workers/router/breaker.ts";

describe("circuit breaker", () => {
  it("opens after consecutive failures, lets one probe through when half-open, and closes on its success", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 3, cooldownMs: 1_000 }, () => now);
    breaker.onFailure();
    breaker.onFailure();
    expect(breaker.state).toBe("closed");
    breaker.onFailure();
    expect(breaker.state).toBe("open");
    expect(breaker.canPass()).toBe(false);
    expect(breaker.openings).toBe(1);
    breaker.onFailure(); // a late failure while open is not another opening
    expect(breaker.openings).toBe(1);
    now = 1_000;
    expect(breaker.state).toBe("half-open");
    expect(breaker.canPass()).toBe(true);
    breaker.onStart();
    expect(breaker.canPass()).toBe(false); // only one probe at a time
    breaker.onSuccess();
    expect(breaker.state).toBe("closed");
    expect(breaker.canPass()).toBe(true);
  });

  it("a failed half-open probe opens the circuit for another cool-down", () => {
    let now = 0;
    const breaker = new CircuitBreaker({ failureThreshold: 1, cooldownMs: 100 }, () => now);
    breaker.onFailure();
    now = 100;
    breaker.onStart();
    breaker.onFailure();
    expect(breaker.state).toBe("open");
    expect(breaker.openings).toBe(2);
    now = 199;
    expect(breaker.canPass()).toBe(false);
    now = 200;
    expect(breaker.state).toBe("half-open");
  });

  it("a success resets the failure count", () => {
    const breaker = new CircuitBreaker({ failureThreshold: 2, cooldownMs: 100 }, () => 0);
    breaker.onFailure();
    breaker.onSuccess();
    breaker.onFailure();
    expect(breaker.state).toBe("closed");
  });
});
