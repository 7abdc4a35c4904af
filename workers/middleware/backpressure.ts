import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../shared/errors.ts";
import type { PoolHonoEnv } from "../types.ts";

/** Tracks requests in flight in this process, for the cap and for graceful shutdown. */
export class InFlight {
  count = 0;
  draining = false;
  private idleWaiters: (() => void)[] = [];

  enter(): void {
    this.count++;
  }
  leave(): void {
    this.count--;
    if (this.count === 0) for (const wake of this.idleWaiters.splice(0)) wake();
  }
  /** Resolves when nothing is in flight. */
  idle(): Promise<void> {
    return this.count === 0 ? Promise.resolve() : new Promise((resolve) => this.idleWaiters.push(resolve));
  }
}

/** Past `max` requests in flight the worker answers 503 with Retry-After instead of queueing without bound. */
export function backpressure(inFlight: InFlight, max: number) {
  return createMiddleware<PoolHonoEnv>(async (_c, next) => {
    if (inFlight.draining) {
      throw new GatewayError("OVERLOADED", "This worker is shutting down.", {
        headers: { "retry-after": "1" },
      });
    }
    if (inFlight.count >= max) {
      throw new GatewayError("OVERLOADED", "The pool is at capacity; retry shortly.", {
        headers: { "retry-after": "1" },
      });
    }
    inFlight.enter();
    try {
      await next();
    } finally {
      inFlight.leave();
    }
  });
}
