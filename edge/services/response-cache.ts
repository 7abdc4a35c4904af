import type { Redis } from "@upstash/redis/cloudflare";
import { canonicalJson } from "../../shared/canonical-json.ts";
import { DependencyError } from "../../shared/dependency-error.ts";
import { answerShapingFields } from "../../shared/schemas/answer-fields.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { sha256Hex } from "../../shared/signing.ts";
import { withDeadline } from "../lib/deadline.ts";
import { LingerBatch } from "../lib/linger-batch.ts";
import type { RecentEntries } from "../lib/recent-entries.ts";

/** What the exact cache keys on: the conversation and every field that changes the answer. */
const keyFields = ["messages", ...answerShapingFields] as const;

/**
 * A hit's body is a completion JSON validated before it was stored; `tier` says where it came from
 * (this isolate's memory tier, or Redis).
 */
export type CacheLookup =
  | { status: "hit"; body: string; tier: "memory" | "redis" }
  | { status: "miss" }
  | { status: "unavailable" };

/** A leader's promise to share its upstream answer (the completion JSON, or null when it had none). */
export interface InFlight {
  share(body: string | null): void;
}

const maxTtlSeconds = 7 * 24 * 3600;
/** Cache writes wait this long for others to share one Redis pipeline call. */
const writeLingerMs = 5;
const maxWritesPerCall = 100;

interface PendingWrite {
  key: string;
  value: string;
  ttlSeconds: number;
}

/**
 * An upstream call on its way: `result` is set, and `shared` resolves, once the leader has its answer.
 * A leader that is cancelled never shares; its flight is ignored and removed after `expires` (epoch ms).
 */
interface Flight {
  result: string | null | undefined;
  shared: Promise<string | null>;
  expires: number;
}

/**
 * Every entry starts with this: the edge stores only completions it has validated, so a hit is served
 * without parsing again; anything else under a key (an older format, a foreign writer) is a miss.
 */
const entryFormat = "tg1:";

/** Settings of a {@link ResponseCache}. */
export interface ResponseCacheOptions {
  /** TTL of entries whose key sets none. */
  defaultTtlSeconds: number;
  /** Redis reads and writes give up after this long. */
  deadlineMs: number;
  /** The isolate's memory tier in front of Redis. */
  recent: RecentEntries;
}

/**
 * The response cache: sha256 of tenant + canonical request, namespaced per tenant so one tenant can
 * never read another's entries. Reads give up after `deadlineMs` (Redis slow or down: the request
 * proceeds uncached). Entries read or written in the last moments are served from `recent`, the
 * isolate's memory tier, without a Redis round trip. Identical concurrent misses in one isolate share
 * one upstream call.
 */
export class ResponseCache {
  /** Upstream calls on their way, by cache key. */
  private readonly inFlight = new Map<string, Flight>();
  private readonly writes = new LingerBatch<PendingWrite>(
    (batch) => this.write(batch),
    writeLingerMs,
    maxWritesPerCall,
  );

  private readonly defaultTtlSeconds: number;
  private readonly deadlineMs: number;
  private readonly recent: RecentEntries;

  constructor(
    private readonly redis: Redis,
    options: ResponseCacheOptions,
  ) {
    this.defaultTtlSeconds = options.defaultTtlSeconds;
    this.deadlineMs = options.deadlineMs;
    this.recent = options.recent;
  }

  async keyFor(tenant: string, request: ChatCompletionRequest): Promise<string> {
    const picked: Record<string, unknown> = {};
    for (const field of keyFields) picked[field] = request[field];
    const digest = await sha256Hex(`${tenant}\n${canonicalJson(picked)}`);
    return `tg:resp:${tenant}:${digest}`;
  }

  /**
   * The cached completion JSON. Never throws: a failed or late read is `unavailable`. With
   * `background` (this request's waitUntil), cache writes other requests queued ride along: issued in
   * the same tick as the read, auto-pipelining sends them in the read's one REST call instead of a
   * call of their own, and `background` gets their completion.
   */
  async lookup(key: string, background?: (write: Promise<void>) => void): Promise<CacheLookup> {
    const recent = this.recent.get(key);
    if (recent !== undefined) return { status: "hit", body: recent, tier: "memory" };
    if (background && this.writes.queued > 0) background(this.writeAlong(this.writes.take()));
    const read = this.redis.get<string>(key).then(
      (value): CacheLookup => {
        if (typeof value !== "string" || !value.startsWith(entryFormat)) return { status: "miss" };
        const body = value.slice(entryFormat.length);
        this.recent.put(key, body);
        return { status: "hit", body, tier: "redis" };
      },
      (): CacheLookup => ({ status: "unavailable" }),
    );
    return withDeadline(read, this.deadlineMs, { status: "unavailable" });
  }

  /**
   * Stores a completion JSON the caller has validated: in the memory tier at once, in Redis with the
   * writes of other requests in one pipeline call a few ms later. Returns the write when this call
   * started it (hand it to `waitUntil`, so it runs in this request's context), else null. A failed
   * write rejects with a DependencyError; the entries are then only in the memory tier.
   */
  set(key: string, body: string, ttlSeconds = this.defaultTtlSeconds): Promise<void> | null {
    this.recent.put(key, body);
    return this.writes.add({
      key,
      value: `${entryFormat}${body}`,
      ttlSeconds: Math.min(maxTtlSeconds, ttlSeconds),
    });
  }

  /** Issues the writes now, one auto-pipelined SET each (they join the caller's call of this tick). */
  private async writeAlong(batch: PendingWrite[]): Promise<void> {
    const sets = batch.map((write) => this.redis.set(write.key, write.value, { ex: write.ttlSeconds }));
    try {
      await Promise.all(sets);
    } catch (error: unknown) {
      throw new DependencyError("redis", true, "cache write failed", { cause: error });
    }
  }

  private async write(batch: PendingWrite[]): Promise<void> {
    const pipeline = this.redis.pipeline();
    for (const write of batch) pipeline.set(write.key, write.value, { ex: write.ttlSeconds });
    try {
      await pipeline.exec();
    } catch (error: unknown) {
      throw new DependencyError("redis", true, "cache write failed", { cause: error });
    }
  }

  /**
   * The answer of an identical request already on its way upstream in this isolate, if any: a promise
   * of the leader's completion JSON (null when it had none), settled by `deadline` (epoch ms) at the
   * latest. The leader's `share` wakes followers at once; each follower also checks from its own
   * request every few ms, because Workers may cancel a request that only waits on another request.
   */
  follow(key: string, deadline: number): Promise<string | null> | undefined {
    const flight = this.inFlight.get(key);
    if (!flight) return undefined;
    if (flight.expires <= Date.now()) {
      this.inFlight.delete(key);
      return undefined;
    }
    const until = Math.min(deadline, flight.expires);
    const polled = (async () => {
      for (let waitMs = 1; flight.result === undefined && Date.now() < until; ) {
        await new Promise((resolve) => setTimeout(resolve, waitMs));
        waitMs = Math.min(waitMs * 2, 20);
      }
      return flight.result ?? null;
    })();
    return Promise.race([flight.shared, polled]);
  }

  /**
   * Registers this request as the one that goes upstream for `key`; it must call `share` once. Its
   * `deadline` (epoch ms) bounds the flight: if the leader is cancelled before sharing, followers stop
   * waiting then and later requests no longer follow it.
   */
  lead(key: string, deadline: number): InFlight {
    let wake: (body: string | null) => void = () => {};
    const flight: Flight = {
      expires: deadline,
      result: undefined,
      shared: new Promise((resolve) => {
        wake = resolve;
      }),
    };
    this.inFlight.set(key, flight);
    return {
      share: (body) => {
        if (flight.result !== undefined) return;
        flight.result = body;
        if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
        wake(body);
      },
    };
  }
}

/** Only deterministic requests are cached by default: temperature 0 (OpenAI's default temperature is 1). */
export function isDeterministic(request: ChatCompletionRequest): boolean {
  return request.temperature === 0;
}
