import type { DependencyError } from "../../shared/dependency-error.ts";
import type { Logger } from "../../shared/logger.ts";
import { withRetry } from "../../shared/retry.ts";
import { toKafkaError } from "./kafka-client.ts";
import { Spool } from "./spool.ts";
import { adoptOrphans, removeLockedDir, unlockDir } from "./spool-dirs.ts";
import { drainSpool, type SendEvents } from "./spool-replay.ts";

/** Options of {@link OrphanSpools}. */
export interface OrphanSpoolsOptions {
  /** The spool root that every process of the pool shares (SPOOL_DIR). */
  root: string;
  send: SendEvents;
  batchSize: number;
  maxBytes: number;
  /** How often the root is scanned for directories whose owner died. */
  scanIntervalMs: number;
  /** First pause after a failed replay; doubles up to 30 s. */
  backoffMs: number;
  onLost: (count: number, reason: unknown) => void;
  onError: (error: DependencyError) => void;
  logger?: Logger;
}

/**
 * Replays the spools of processes that died (SIGKILL, OOM, a crash) and were not restarted onto the same
 * directory: at start and every `scanIntervalMs`, each spool directory under the root whose lock holder
 * is gone is locked, sent to Kafka oldest first, and deleted once empty. While Kafka is away the replay
 * backs off and keeps the directory locked; on `stop` an unfinished one is unlocked for the next process.
 */
export class OrphanSpools {
  readonly #options: OrphanSpoolsOptions;
  readonly #abort = new AbortController();
  readonly #adopted = new Map<string, Spool>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #scanning: Promise<void> | undefined;

  constructor(options: OrphanSpoolsOptions) {
    this.#options = options;
  }

  /** Scans now, then every `scanIntervalMs`. */
  start(): void {
    this.#scan();
    this.#timer = setInterval(() => this.#scan(), this.#options.scanIntervalMs);
    this.#timer.unref?.();
  }

  /** Events waiting in adopted spools. */
  pendingEvents(): number {
    let total = 0;
    for (const spool of this.#adopted.values()) total += spool.stats().records;
    return total;
  }

  /** Stops scanning and replaying; directories not yet emptied are unlocked and kept. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#abort.abort();
    await this.#scanning;
  }

  #scan(): void {
    if (this.#scanning || this.#abort.signal.aborted) return;
    this.#scanning = this.#adoptAndReplay()
      .catch((error: unknown) => this.#options.onError(toKafkaError("adopting orphaned spools", error)))
      .finally(() => {
        this.#scanning = undefined;
      });
  }

  async #adoptAndReplay(): Promise<void> {
    for (const dir of await adoptOrphans(this.#options.root)) {
      const spool = new Spool({ dir, maxBytes: this.#options.maxBytes });
      this.#adopted.set(dir, spool);
      try {
        await spool.ready();
        if (!spool.isEmpty())
          this.#options.logger?.info("replaying an orphaned spool", { dir, ...spool.stats() });
        await this.#replay(spool);
        await removeLockedDir(this.#options.root, dir);
      } catch (error: unknown) {
        await unlockDir(dir);
        if (!this.#abort.signal.aborted) throw error;
      } finally {
        this.#adopted.delete(dir);
      }
    }
  }

  #replay(spool: Spool): Promise<void> {
    const signal = this.#abort.signal;
    return withRetry(
      async () => {
        if (spool.isEmpty()) return;
        await drainSpool({
          spool,
          send: this.#options.send,
          batchSize: this.#options.batchSize,
          onLost: this.#options.onLost,
          stopped: () => signal.aborted,
        });
        if (!spool.isEmpty()) throw new Error("stopped before the orphaned spool was empty");
      },
      {
        attempts: Number.POSITIVE_INFINITY,
        baseDelayMs: this.#options.backoffMs,
        maxDelayMs: 30_000,
        shouldRetry: () => true,
        onRetry: (error) => this.#options.onError(toKafkaError("replaying an orphaned spool", error)),
        signal,
      },
    );
  }
}
