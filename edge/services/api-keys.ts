import type { Redis } from "@upstash/redis/cloudflare";
import { GatewayError } from "../../shared/errors.ts";
import {
  apiKeyPattern,
  keyCacheEntry,
  keyVerifyResponseSchema,
  type VerifiedKey,
  verifiedKeySchema,
} from "../../shared/schemas/keys.ts";
import { sha256Hex } from "../../shared/signing.ts";
import { withDeadline } from "../lib/deadline.ts";
import type { AuthLookupLimiter } from "./auth-lookup-limiter.ts";
import type { PoolClient } from "./pool-client.ts";

export type { VerifiedKey };

interface Cached {
  key: VerifiedKey | null;
  expires: number;
  /** From then on, one request refreshes the entry while the others still use it. */
  refreshAt: number;
}

/** A cached value read from Redis, with how long Redis keeps it (ms). */
type RedisRead = { status: "hit"; key: VerifiedKey | null; remainingMs: number } | { status: "miss" };

const maxLocalEntries = 10_000;

/** Options of {@link ApiKeyVerifier}. */
export interface ApiKeyVerifierOptions {
  redis: Redis;
  pool: PoolClient;
  /** How long a found key is cached (isolate memory and Redis). */
  ttlSeconds: number;
  /** How long an unknown key is cached: short, so a key created just after a failed try soon works. */
  negativeTtlSeconds?: number;
  /** Redis reads give up after this long (then the pool is asked), like the response cache's. */
  redisDeadlineMs?: number;
  /** The per-client-IP limit on lookups that miss both caches. */
  lookupLimiter?: AuthLookupLimiter;
}

/** Parses a cached entry; anything malformed is a miss, never an error. */
function parseCached(value: string): VerifiedKey | null | undefined {
  if (value === "null") return null;
  try {
    const parsed = verifiedKeySchema.safeParse(JSON.parse(value));
    return parsed.success ? parsed.data : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Verifies bearer keys. Keys are stored only as sha256 in Postgres (behind the pool). A token that is
 * not shaped like an issued key is refused at once. A lookup is cached in Redis (`ttlSeconds`, or
 * `negativeTtlSeconds` for unknown keys) and in isolate memory for no longer than Redis still keeps it,
 * so revoking a key (which deletes its Redis entry) stops it within the isolate's remaining time.
 */
/** In its last fifth, at most this many ms, a fresh entry is refreshed by one request while the others use it. */
const refreshAheadMs = 5_000;
/** A follower waits this long for another request's lookup of the same key. */
const followMs = 5_000;

export class ApiKeyVerifier {
  private readonly local = new Map<string, Cached>();
  /** sha256 of bearer tokens seen lately, so a repeat caller costs no digest. */
  private readonly hashes = new Map<string, string>();
  /** Lookups on their way, by key hash: concurrent requests of one key share one (no stampede at expiry). */
  private readonly pending = new Map<string, Promise<VerifiedKey | null>>();
  private readonly options: Required<Omit<ApiKeyVerifierOptions, "lookupLimiter">> &
    Pick<ApiKeyVerifierOptions, "lookupLimiter">;

  constructor(options: ApiKeyVerifierOptions) {
    this.options = {
      negativeTtlSeconds: Math.min(5, options.ttlSeconds),
      redisDeadlineMs: 1_000,
      ...options,
    };
  }

  /** The active key behind `authorization`; 401/403/429 GatewayErrors otherwise. `clientIp` feeds the lookup limit. */
  async verify(
    authorization: string | undefined,
    requestId: string,
    clientIp = "unknown",
  ): Promise<VerifiedKey> {
    const token = authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) {
      throw new GatewayError("UNAUTHORIZED", "Missing API key: send it as 'Authorization: Bearer <key>'.");
    }
    if (!apiKeyPattern.test(token)) throw new GatewayError("INVALID_API_KEY", "Incorrect API key provided.");
    const hash = await this.hashOf(token);
    const key = await this.lookup(hash, requestId, clientIp);
    if (!key) throw new GatewayError("INVALID_API_KEY", "Incorrect API key provided.");
    if (key.status !== "active") throw new GatewayError("KEY_REVOKED", "This API key has been revoked.");
    // Checked on every use, so a cached entry stops working at its expiry, not at the cache's.
    if (key.expiresAt && Date.parse(key.expiresAt) <= Date.now()) {
      throw new GatewayError("KEY_EXPIRED", "This API key has expired.");
    }
    return key;
  }

  /**
   * The isolate's entry while it is fresh. In its last fifth (at most `refreshAheadMs`) one request refreshes it (and
   * waits for that itself) while the others keep using it, so a busy key never expires under load.
   * Without an entry, the first request looks the key up and concurrent ones follow it (see `follow`).
   */
  private lookup(hash: string, requestId: string, clientIp: string): Promise<VerifiedKey | null> {
    const now = Date.now();
    const hit = this.local.get(hash);
    if (hit && hit.expires > now) {
      if (now < hit.refreshAt || this.pending.has(hash)) return Promise.resolve(hit.key);
      return this.lead(hash, requestId, clientIp, now).catch(() => hit.key);
    }
    const pending = this.pending.get(hash);
    if (pending) return this.follow(hash, pending, now);
    return this.lead(hash, requestId, clientIp, now);
  }

  private lead(hash: string, requestId: string, clientIp: string, now: number): Promise<VerifiedKey | null> {
    const lookup = this.lookupShared({ hash, requestId, clientIp, now }).finally(() =>
      this.pending.delete(hash),
    );
    this.pending.set(hash, lookup);
    return lookup;
  }

  /**
   * Waits for another request's lookup of the same key. Workers cancel the continuations of a promise
   * settled from a request that has already finished, which left followers hanging until the runtime
   * killed them (every key-cache expiry, under load): so a follower also polls the isolate's entry
   * from its own request, and gives up when the leader ended without one.
   */
  private follow(
    hash: string,
    pending: Promise<VerifiedKey | null>,
    now: number,
  ): Promise<VerifiedKey | null> {
    const polled = (async () => {
      for (let waitMs = 1; Date.now() < now + followMs; waitMs = Math.min(waitMs * 2, 20)) {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        const entry = this.local.get(hash);
        if (entry && entry.expires > Date.now()) return entry.key;
        if (!this.pending.has(hash)) break;
      }
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "API key verification is unavailable; try again.", {
        headers: { "retry-after": "1" },
      });
    })();
    return Promise.race([pending, polled]);
  }

  private async lookupShared({
    hash,
    requestId,
    clientIp,
    now,
  }: {
    hash: string;
    requestId: string;
    clientIp: string;
    now: number;
  }): Promise<VerifiedKey | null> {
    const cached = await this.readRedis(hash);
    if (cached.status === "hit") {
      this.remember(hash, cached.key, now + cached.remainingMs);
      return cached.key;
    }
    if (this.options.lookupLimiter && !(await this.options.lookupLimiter.allow(clientIp))) {
      throw new GatewayError("RATE_LIMITED", "Too many API key lookups from this address; slow down.", {
        headers: { "retry-after": "1" },
      });
    }
    const key = await this.askPool(hash, requestId, now);
    const ttlSeconds = key ? this.options.ttlSeconds : this.options.negativeTtlSeconds;
    this.remember(hash, key, now + ttlSeconds * 1000);
    // Not awaited: a slow Redis must not slow the request; the next lookup simply asks the pool again.
    this.options.redis
      .set(keyCacheEntry(hash), JSON.stringify(key), { ex: ttlSeconds })
      .catch(() => undefined);
    return key;
  }

  /** The Redis entry and its remaining lifetime (GET and PTTL share one pipelined call). */
  private async readRedis(hash: string): Promise<RedisRead> {
    const entry = keyCacheEntry(hash);
    const read = Promise.all([this.options.redis.get<string>(entry), this.options.redis.pttl(entry)]).then(
      ([value, remainingMs]): RedisRead => {
        if (typeof value !== "string") return { status: "miss" };
        const key = parseCached(value);
        if (key === undefined) return { status: "miss" };
        // -1: no expiry set (not written by this edge); keep it no longer than a fresh lookup.
        const cap = (key ? this.options.ttlSeconds : this.options.negativeTtlSeconds) * 1000;
        return { status: "hit", key, remainingMs: remainingMs < 0 ? cap : Math.min(remainingMs, cap) };
      },
      (): RedisRead => ({ status: "miss" }),
    );
    return withDeadline(read, this.options.redisDeadlineMs, { status: "miss" });
  }

  private async askPool(hash: string, requestId: string, now: number): Promise<VerifiedKey | null> {
    const result = await this.options.pool.forward({
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
    return parsed.data.key;
  }

  /**
   * Counts one lookup that bypasses the key caches (the admin API looks every credential up) against
   * the per-client-IP limit; true when there is no limiter.
   */
  allowLookup(clientIp: string): Promise<boolean> {
    return this.options.lookupLimiter ? this.options.lookupLimiter.allow(clientIp) : Promise.resolve(true);
  }

  /** Drops this isolate's cached lookup of `hash` (after a revocation or rotation through this edge). */
  forget(hash: string): void {
    this.local.delete(hash);
  }

  private async hashOf(token: string): Promise<string> {
    const known = this.hashes.get(token);
    if (known) return known;
    const hash = await sha256Hex(token);
    if (this.hashes.size >= maxLocalEntries) this.hashes.clear();
    this.hashes.set(token, hash);
    return hash;
  }

  private remember(hash: string, key: VerifiedKey | null, expires: number): void {
    if (this.local.size >= maxLocalEntries) this.local.clear();
    const lifetime = Math.max(0, expires - Date.now());
    this.local.set(hash, { key, expires, refreshAt: expires - Math.min(refreshAheadMs, lifetime / 5) });
  }
}
