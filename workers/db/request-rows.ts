import { getTableColumns, sql } from "drizzle-orm";
import type { DependencyError } from "../../shared/dependency-error.ts";
import { classifyPostgresError, type Database, withPostgres } from "./client.ts";
import { requests } from "./schema.ts";

export type RequestRow = typeof requests.$inferInsert;

const requestColumns = Object.entries(getTableColumns(requests)) as [keyof RequestRow, { name: string }][];
const columnList = sql.join(
  requestColumns.map(([, column]) => sql.identifier(column.name)),
  sql`, `,
);

/** The rows as one JSON array keyed by column name, for `json_populate_recordset`. */
function rowsAsJson(rows: readonly RequestRow[]): string {
  return JSON.stringify(
    rows.map((row) => {
      const record: Record<string, unknown> = {};
      for (const [key, column] of requestColumns) record[column.name] = row[key] ?? null;
      return record;
    }),
  );
}

export interface RequestRowWriterOptions {
  /** How long a row waits for more before its batch is written. Default 250 ms. */
  flushIntervalMs?: number;
  /** Rows per insert; a full batch is written at once. Default 500. */
  maxBatchRows?: number;
  /** Rows held in memory at most; beyond it new rows are dropped (counted). Default 10,000. */
  maxBufferedRows?: number;
  /** Told about each batch that was not written (for logs); must not throw. */
  onDrop?: (rows: number, reason: DependencyError | Error) => void;
}

export interface RequestRowStats {
  /** Rows in memory, waiting for their batch. */
  buffered: number;
  /** Rows in the insert running right now. */
  inFlight: number;
  written: number;
  /** Rows lost: a failed insert (Postgres down), a full buffer, or added after `close`. */
  dropped: number;
}

/**
 * Writes request rows to Postgres in multi-row inserts, off the request path: one worker's rows are
 * buffered and written every `flushIntervalMs` or `maxBatchRows` rows, whichever comes first, one
 * insert at a time (so a worker needs one connection for them, not one per concurrent request).
 *
 * When Postgres is down the insert fails (after the driver's connection timeout) and its rows are
 * dropped, counted and reported through `onDrop`, as a single row was before batching; the buffer is
 * capped, so an outage never blocks requests nor grows memory without bound. A duplicate request id is
 * skipped without failing its batch.
 */
export class RequestRowWriter {
  readonly #db: Database;
  readonly #options: Required<Omit<RequestRowWriterOptions, "onDrop">> &
    Pick<RequestRowWriterOptions, "onDrop">;
  #buffer: RequestRow[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> | undefined;
  #inFlight = 0;
  #written = 0;
  #dropped = 0;
  #closed = false;

  constructor(db: Database, options: RequestRowWriterOptions = {}) {
    this.#db = db;
    this.#options = { flushIntervalMs: 250, maxBatchRows: 500, maxBufferedRows: 10_000, ...options };
  }

  /** Queues a row (its `createdAt` is now). Never blocks, never throws. */
  add(row: RequestRow): void {
    if (this.#closed || this.#buffer.length >= this.#options.maxBufferedRows) {
      this.#dropped++;
      return;
    }
    this.#buffer.push({ createdAt: new Date(), ...row });
    if (this.#buffer.length >= this.#options.maxBatchRows) this.#startWrite();
    else this.#timer ??= setTimeout(() => this.#startWrite(), this.#options.flushIntervalMs);
  }

  /** Writes everything buffered so far and waits for it. Never throws. */
  async flush(): Promise<void> {
    while (this.#buffer.length > 0 || this.#writing) {
      this.#startWrite();
      await this.#writing;
    }
  }

  /** Flushes; rows added afterwards are dropped (counted). */
  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
    clearTimeout(this.#timer);
  }

  stats(): RequestRowStats {
    return {
      buffered: this.#buffer.length,
      inFlight: this.#inFlight,
      written: this.#written,
      dropped: this.#dropped,
    };
  }

  #startWrite(): void {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#writing ??= this.#writeBatch().finally(() => {
      this.#writing = undefined;
      if (this.#buffer.length >= this.#options.maxBatchRows) this.#startWrite();
      else if (this.#buffer.length > 0)
        this.#timer ??= setTimeout(() => this.#startWrite(), this.#options.flushIntervalMs);
    });
  }

  async #writeBatch(): Promise<void> {
    const batch = this.#buffer.splice(0, this.#options.maxBatchRows);
    if (batch.length === 0) return;
    this.#inFlight = batch.length;
    try {
      // One statement whose text never changes and one JSON parameter: building a multi-row VALUES
      // list with drizzle's query builder cost ~25 µs of CPU per row.
      await withPostgres(() =>
        this.#db.execute(
          sql`insert into ${requests} (${columnList}) select ${columnList} from json_populate_recordset(null::${requests}, ${rowsAsJson(batch)}::json) on conflict do nothing`,
        ),
      );
      this.#written += batch.length;
    } catch (error: unknown) {
      this.#dropped += batch.length;
      const reason =
        classifyPostgresError(error) ?? (error instanceof Error ? error : new Error(String(error)));
      this.#options.onDrop?.(batch.length, reason);
    } finally {
      this.#inFlight = 0;
    }
  }
}
