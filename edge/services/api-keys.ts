import type { Redis } from "@upstash/redis/cloudflare";
import { GatewayError } from "../../shared/errors.ts";
import { keyVerifyResponseSchema, type VerifiedKey, verifiedKeySchema } from "../../shared/schemas/keys.ts";
import { sha256Hex } from "../../shared/signing.ts";
import { withDeadline } from "../lib/deadline.ts";
import type { PoolClient } from "./pool-client.ts";

export type { VerifiedKey };

interface Cached {
  key: VerifiedKey | null;
  expires: number;
}

const maxLocalEntries = 10_000;

/** Settings of an {@link ApiKeyVerifier}. */
export interface ApiKeyVerifierOptions {
  /** How long a lookup is cached (isolate memory and Redis): a revoked key works at most this long. */
  ttlSeconds: number;
  /** Redis reads give up after this long (then the pool is asked), like the response cache's. Default 1 s. */
  redisDeadlineMs?: number;
}

/**
 * Verifies bearer keys. Keys are stored only as sha256 in Postgres (behind the pool); the edge caches a
 * lookup in isolate memory and in Redis for `ttlSeconds`, so a revoked key stops working within that TTL.
 */
export class ApiKeyVerifier {
  private readonly local = new Map<string, Cached>();
  /** sha256 of bearer tokens seen lately, so a repeat caller costs no digest. */
  private readonly hashes = new Map<string, string>();

  private readonly ttlSeconds: number;
  private readonly redisDeadlineMs: number;

  constructor(
    private readonly redis: Redis,
    private readonly pool: PoolClient,
    options: ApiKeyVerifierOptions,
  ) {
    this.ttlSeconds = options.ttlSeconds;
    this.redisDeadlineMs = options.redisDeadlineMs ?? 1_000;
  }

  async verify(authorization: string | undefined, requestId: string): Promise<VerifiedKey> {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) {
      throw new GatewayError("UNAUTHORIZED", "Missing API key: send it as 'Authorization: Bearer <key>'.");
    }
    const hash = await this.hashOf(token);
    const key = await this.lookup(hash, requestId);
    if (!key) throw new GatewayError("INVALID_API_KEY", "Incorrect API key provided.");
    if (key.status !== "active") throw new GatewayError("KEY_REVOKED", "This API key has been revoked.");
    return key;
  }

  private async lookup(hash: string, requestId: string): Promise<VerifiedKey | null> {
    const now = Date.now();
    const hit = this.local.get(hash);
    if (hit && hit.expires > now) return hit.key;

    const redisKey = `tg:key:${hash}`;
    const fromRedis = await withDeadline(
      this.redis.get<string>(redisKey).catch(() => null),
      this.redisDeadlineMs,
      null,
    );
    if (typeof fromRedis === "string") {
      const key = fromRedis === "null" ? null : verifiedKeySchema.parse(JSON.parse(fromRedis));
      this.remember(hash, key, now);
      return key;
    }

    const result = await this.pool.forward({
      method: "POST",
      path: "/internal/v1/keys/verify",
      body: JSON.stringify({ key_hash: hash }),
      requestId,
      deadline: now + 5_000,
      idempotent: true,
      recordHealth: false,
    });
    if (!result.ok || !result.response.ok) {
      if (result.ok) await result.response.body?.cancel().catch(() => undefined);
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "API key verification is unavailable; try again.", {
        headers: { "retry-after": "1" },
      });
    }
    const response = result.response;
    result.settle(false);
    const parsed = keyVerifyResponseSchema.safeParse(await response.json().catch(() => null));
    if (!parsed.success) {
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "API key verification answered malformed data.", {
        headers: { "retry-after": "1" },
      });
    }
    const { key } = parsed.data;
    this.remember(hash, key, now);
    // Not awaited: a slow Redis must not slow the request; the next lookup simply asks the pool again.
    this.redis.set(redisKey, JSON.stringify(key), { ex: this.ttlSeconds }).catch(() => undefined);
    return key;
  }

  private async hashOf(token: string): Promise<string> {
    const known = this.hashes.get(token);
    if (known) return known;
    const hash = await sha256Hex(token);
    if (this.hashes.size >= maxLocalEntries) this.hashes.clear();
    this.hashes.set(token, hash);
    return hash;
  }

  private remember(hash: string, key: VerifiedKey | null, now: number): void {
    if (this.local.size >= maxLocalEntries) this.local.clear();
    this.local.set(hash, { key, expires: now + this.ttlSeconds * 1000 });
  }
}
