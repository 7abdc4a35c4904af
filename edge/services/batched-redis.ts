import { Redis, type Requester, type UpstashRequest, type UpstashResponse } from "@upstash/redis/cloudflare";

type RedisConfig = ConstructorParameters<typeof Redis>[0];

export interface BatchingOptions {
  /** Pipelines on the wire at once; commands issued while all are busy wait for the next one. */
  maxInFlight: number;
  /** Commands per pipeline at most. */
  maxBatch: number;
  /** A slot whose leader has not woken, or whose pipeline has not settled, after this long is given back. */
  staleMs: number;
}

interface Queued {
  command: unknown;
  /** When it was made the leader that sends the next pipeline (itself and those waiting behind it). */
  appointedAt: number | null;
  /** Wakes it as leader; the pipeline then starts in its own request's context. */
  lead(): void;
  resolve(response: UpstashResponse<unknown>): void;
  reject(error: unknown): void;
}

interface Slot {
  leader: Queued;
  /** When the pipeline left; null while the leader has not woken yet. */
  sentAt: number | null;
}

/**
 * Sends single Redis commands as `/pipeline` calls, batched by load rather than by time: a command
 * issued while fewer than `maxInFlight` pipelines are on the wire leaves at once (with whatever queued
 * meanwhile), so an idle edge adds no wait; under load, the commands of many concurrent requests share
 * one HTTP call. Pipelines, transactions and streaming requests pass through unchanged.
 *
 * Upstash's own auto-pipelining only batches commands issued in the same tick, which in a Worker is
 * one request's commands; this batches across requests. A pipeline is always sent by one of its own
 * commands (the leader, woken through a promise it created), because Workers tie a subrequest to the
 * request that started it. A leader whose request has gone (it never wakes) or a pipeline that never
 * settles gives its slot back after `staleMs`, so one lost request cannot stall the isolate's Redis.
 */
export class BatchingRequester implements Requester {
  private queue: Queued[] = [];
  private readonly slots = new Set<Slot>();

  constructor(
    private readonly inner: Requester,
    private readonly options: BatchingOptions,
  ) {}

  get readYourWrites(): boolean | undefined {
    return this.inner.readYourWrites;
  }

  get upstashSyncToken(): string | undefined {
    return this.inner.upstashSyncToken;
  }

  request<TResult = unknown>(req: UpstashRequest): Promise<UpstashResponse<TResult>> {
    const single = (req.path?.length ?? 0) === 0 && !req.isStreaming && !req.onMessage && !req.signal;
    if (!single || !Array.isArray(req.body)) return this.inner.request<TResult>(req);
    return new Promise<UpstashResponse<TResult>>((resolve, reject) => {
      let lead: () => void = () => {};
      const turn = new Promise<void>((wake) => {
        lead = wake;
      });
      const queued: Queued = {
        command: req.body,
        appointedAt: null,
        lead,
        resolve: resolve as (response: UpstashResponse<unknown>) => void,
        reject,
      };
      this.queue.push(queued);
      void turn.then(() => this.sendFrom(queued));
      this.appointLeaders();
    });
  }

  /** Frees stale slots, then wakes waiting commands as leaders while pipelines are free. */
  private appointLeaders(): void {
    const now = Date.now();
    for (const slot of this.slots) {
      const since = slot.sentAt ?? slot.leader.appointedAt ?? now;
      if (now - since <= this.options.staleMs) continue;
      this.slots.delete(slot);
      if (slot.sentAt === null) slot.leader.appointedAt = null;
    }
    for (const queued of this.queue) {
      if (this.slots.size >= this.options.maxInFlight) return;
      if (queued.appointedAt !== null) continue;
      queued.appointedAt = now;
      this.slots.add({ leader: queued, sentAt: null });
      queued.lead();
    }
  }

  private async sendFrom(leader: Queued): Promise<void> {
    if (!this.queue.includes(leader)) return; // sent meanwhile by another leader
    const slot = [...this.slots].find((s) => s.leader === leader);
    if (slot) slot.sentAt = Date.now();
    const batch = [leader];
    const rest: Queued[] = [];
    for (const queued of this.queue) {
      if (queued === leader) continue;
      if (queued.appointedAt === null && batch.length < this.options.maxBatch) batch.push(queued);
      else rest.push(queued);
    }
    this.queue = rest;
    try {
      const replies = await this.inner.request<unknown>({
        path: ["pipeline"],
        body: batch.map((queued) => queued.command),
      });
      if (!Array.isArray(replies) || replies.length !== batch.length) {
        throw new Error(`Redis pipeline answered ${batch.length} commands with a malformed reply`);
      }
      batch.forEach((queued, i) => {
        queued.resolve(replies[i] as UpstashResponse<unknown>);
      });
    } catch (error: unknown) {
      for (const queued of batch) queued.reject(error);
    } finally {
      if (slot) this.slots.delete(slot);
      this.appointLeaders();
    }
  }
}

/** `@upstash/redis` (Cloudflare entry) whose single commands go through a {@link BatchingRequester}. */
export class BatchedRedis extends Redis {
  constructor(config: RedisConfig, batching: BatchingOptions) {
    super({ ...config, enableAutoPipelining: false });
    this.client = new BatchingRequester(this.client, batching);
  }
}
