import { RedisClient } from "bun";
import { DependencyError } from "../../shared/dependency-error.ts";
import type { Logger } from "../../shared/logger.ts";
import type { NonceStore } from "./nonce-store.ts";

export interface RedisNonceStoreOptions {
  /** `redis://[user:password@]host:port[/db]` or `rediss://…`. */
  url: string;
  /** A claim that takes longer fails (503); Redis must answer quickly or not at all. */
  timeoutMs: number;
  /** Key prefix, e.g. `tg:nonce:<region>:`. */
  prefix: string;
  logger: Logger;
}

/** How often a worker whose connection is down asks for a new one. */
const reconnectEveryMs = 1_000;

/**
 * The region's nonce store: Redis `SET key 1 NX PX ttl`, over Bun's built-in Redis client (RESP, no
 * HTTP hop and no extra package on the hot path). Every worker of the region uses the same Redis, and
 * Redis keeps the keys across worker restarts, so a nonce is accepted once per region.
 * While Redis is unreachable, claims fail at once (no offline queue) with a retryable
 * DependencyError: the pool answers 503 and the edge fails over. The connection comes back by itself.
 */
export class RedisNonceStore implements NonceStore {
  private readonly client: RedisClient;
  private connecting: Promise<void> | undefined;
  private lastConnectAt = 0;
  private closed = false;
  private everConnected = false;

  constructor(private readonly options: RedisNonceStoreOptions) {
    this.client = new RedisClient(options.url, {
      enableOfflineQueue: false,
      autoReconnect: true,
      maxRetries: 4_294_967_295,
      connectionTimeout: Math.max(options.timeoutMs, 500),
      enableAutoPipelining: true,
    });
    this.connect();
  }

  async claim(nonce: string, ttlMs: number): Promise<boolean> {
    if (!this.client.connected) {
      this.connect();
      // A worker that has not connected yet (just booted) waits for its first connection, bounded.
      if (!this.everConnected && this.connecting) await this.bounded(this.connecting).catch(() => undefined);
      if (!this.client.connected) throw new DependencyError("redis", true, "nonce store not connected");
    }
    try {
      const reply = await this.bounded(
        this.client.send("SET", [`${this.options.prefix}${nonce}`, "1", "NX", "PX", String(ttlMs)]),
      );
      return reply === "OK";
    } catch (error: unknown) {
      if (error instanceof DependencyError) throw error;
      throw new DependencyError("redis", true, error instanceof Error ? error.message : String(error), {
        cause: error,
      });
    }
  }

  /** `work`, or a retryable DependencyError after `timeoutMs`. */
  private async bounded<T>(work: Promise<T>): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new DependencyError("redis", true, "nonce store timed out")),
        this.options.timeoutMs,
      );
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): void {
    this.closed = true;
    this.client.close();
  }

  /** Starts a connection attempt unless one is running or one started within the last second. */
  private connect(): void {
    if (this.closed || this.connecting || Date.now() - this.lastConnectAt < reconnectEveryMs) return;
    this.lastConnectAt = Date.now();
    this.connecting = this.client
      .connect()
      .then(() => {
        this.everConnected = true;
      })
      .catch((error: unknown) => {
        this.options.logger.warn("nonce store: Redis connection failed", { error });
      })
      .finally(() => {
        this.connecting = undefined;
      });
  }
}
