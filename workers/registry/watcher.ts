import type { RoutingTable } from "./types.ts";

export interface WatcherOptions {
  /** Reads the current table (from Postgres). */
  load(): Promise<RoutingTable>;
  intervalMs: number;
  /** Called with each table that differs from the one before. */
  onChange?(table: RoutingTable): void;
  onError?(error: unknown): void;
}

/**
 * Keeps a worker's routing table fresh by polling the registry every `intervalMs` (about 2 s). A failed
 * read keeps the last good table, so a Postgres outage never stops routing; the next good read wins.
 * Polling rather than LISTEN/NOTIFY: Neon's pooled endpoints (PgBouncer, transaction mode) do not
 * deliver notifications, and a poll of three small tables costs next to nothing.
 */
export class RegistryWatcher {
  private timer: ReturnType<typeof setTimeout> | undefined;
  private fingerprint: string;
  private stopped = false;
  /** Successful reads so far (tests wait on it). */
  reads = 0;

  constructor(
    public current: RoutingTable,
    private readonly options: WatcherOptions,
  ) {
    this.fingerprint = JSON.stringify(current);
  }

  /** Reads once now; true when the table changed. */
  async refresh(): Promise<boolean> {
    try {
      const table = await this.options.load();
      this.reads++;
      const fingerprint = JSON.stringify(table);
      if (fingerprint === this.fingerprint) return false;
      this.fingerprint = fingerprint;
      this.current = table;
      this.options.onChange?.(table);
      return true;
    } catch (error: unknown) {
      this.options.onError?.(error);
      return false;
    }
  }

  start(): void {
    this.stopped = false;
    const tick = async () => {
      await this.refresh();
      if (!this.stopped) this.timer = setTimeout(tick, this.options.intervalMs);
    };
    this.timer = setTimeout(tick, this.options.intervalMs);
    (this.timer as { unref?: () => void }).unref?.();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
  }
}
