import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../../shared/errors.ts";
import { headers } from "../../../shared/headers.ts";
import { sha256HexSync } from "../../lib/sha256.ts";
import { bootLogger } from "../env.ts";
import type { PoolServices } from "../services.ts";
import type { PoolHonoEnv } from "../types.ts";
import { signatureMatches } from "./node-signing.ts";

const maxSkewMs = 30_000;

/** Nonces seen inside the skew window; a repeat is a replay. */
class NonceWindow {
  private readonly seen = new Map<string, number>();
  /** Returns false when the nonce was already used. */
  claim(nonce: string, now: number): boolean {
    if (this.seen.size > 100_000 || this.seen.size % 1024 === 0) {
      for (const [n, expires] of this.seen) if (expires < now) this.seen.delete(n);
    }
    if (this.seen.has(nonce)) return false;
    this.seen.set(nonce, now + 2 * maxSkewMs);
    return true;
  }
}

/**
 * Only the edge may call the pool: every call carries an HMAC over method, path, timestamp, nonce and
 * body hash. Unsigned, stale (±30 s) or replayed calls get 401. Verified with node:crypto (node-signing.ts).
 * A verified call gets `c.var.log`: the worker's logger bound to its request id and tenant.
 */
export function verifySignature(secret: string) {
  const nonces = new NonceWindow();
  return createMiddleware<PoolHonoEnv>(async (c, next) => {
    const signature = c.req.header(headers.signature);
    const timestamp = Number(c.req.header(headers.timestamp));
    const nonce = c.req.header(headers.nonce);
    const now = Date.now();
    if (!signature || !nonce || !Number.isFinite(timestamp)) {
      throw new GatewayError("INVALID_SIGNATURE", "This endpoint only accepts signed calls from the edge.");
    }
    if (Math.abs(now - timestamp) > maxSkewMs)
      throw new GatewayError("INVALID_SIGNATURE", "Stale signature.");
    const body = await c.req.text();
    const input = {
      method: c.req.method,
      path: c.req.path,
      timestamp,
      nonce,
      bodySha256: sha256HexSync(body),
    };
    if (!signatureMatches(secret, input, signature))
      throw new GatewayError("INVALID_SIGNATURE", "Bad signature.");
    if (!nonces.claim(nonce, now)) throw new GatewayError("INVALID_SIGNATURE", "Replayed request.");
    c.set("rawBody", body);
    // A verified call comes from the edge, whose tenant header the routes trust: every line carries it.
    const services: PoolServices | undefined = c.get("services");
    const logger = services?.logger ?? bootLogger;
    c.set("log", logger.child({ request_id: c.var.requestId, tenant: c.req.header(headers.tenant) }));
    await next();
  });
}
