import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../../shared/errors.ts";
import { headers } from "../../../shared/headers.ts";
import { formatPoolLoad } from "../../../shared/pool-load.ts";
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

/**
 * Past `max` requests in flight the worker answers 503 with Retry-After instead of queueing without
 * bound. Every answer, the refusals included, carries the worker's load (`x-tiergate-pool-load:
 * <in flight>/<max>`, counted when the answer leaves): the edge's per-region admission cuts every
 * isolate's share of this region from it before the cap is reached. Admitted answers carry the
 * worker's time on them (`server-timing: pool;dur=<ms>`), which the edge passes on.
 */
export function backpressure(inFlight: InFlight, max: number) {
  const load = () => formatPoolLoad({ inFlight: inFlight.count, limit: max });
  return createMiddleware<PoolHonoEnv>(async (c, next) => {
    if (inFlight.draining) {
      throw new GatewayError("OVERLOADED", "This worker is shutting down.", {
        headers: { "retry-after": "1", [headers.poolLoad]: formatPoolLoad({ inFlight: max, limit: max }) },
      });
    }
    if (inFlight.count >= max) {
      throw new GatewayError("OVERLOADED", "The pool is at capacity; retry shortly.", {
        headers: { "retry-after": "1", [headers.poolLoad]: load() },
      });
    }
    inFlight.enter();
    const entered = performance.now();
    let heldByStream = false;
    try {
      await next();
      c.res = withHeader(c.res, headers.poolLoad, load());
      c.res = withHeader(c.res, headers.serverTiming, `pool;dur=${Math.round(performance.now() - entered)}`);
      const body = c.res.body;
      if (body && c.res.headers.get("content-type")?.startsWith("text/event-stream")) {
        // A streamed answer stays in flight until its body ends or the client goes away.
        c.res = new Response(
          releaseWhenDone(body, () => inFlight.leave()),
          c.res,
        );
        heldByStream = true;
      }
    } finally {
      if (!heldByStream) inFlight.leave();
    }
  });
}

/** `response` with a header set (a copy when its headers are immutable, as a fetched answer's can be). */
function withHeader(response: Response, name: string, value: string): Response {
  try {
    response.headers.set(name, value);
    return response;
  } catch {
    const copy = new Response(response.body, response);
    copy.headers.set(name, value);
    return copy;
  }
}

/** Passes a body through and calls `release` once, when it ends, fails or is cancelled. */
function releaseWhenDone(body: ReadableStream<Uint8Array>, release: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let released = false;
  const releaseOnce = () => {
    if (released) return;
    released = true;
    release();
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { done, value } = await reader.read();
        if (done) {
          releaseOnce();
          controller.close();
        } else {
          controller.enqueue(value);
        }
      } catch (error: unknown) {
        releaseOnce();
        controller.error(error);
      }
    },
    cancel(reason) {
      releaseOnce();
      return reader.cancel(reason);
    },
  });
}
