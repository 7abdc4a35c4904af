/**
 * Buffers rows and writes them in batches off the request path: every `lingerMs`, or at once when
 * `maxRows` are waiting; one write at a time. A failed write drops its rows (reported through `onDrop`);
 * the buffer is capped, so an outage never grows memory without bound nor blocks a request.
 */
export class RowBatcher<Row> {
  #buffer: Row[] = [];
  #timer: ReturnType<typeof setTimeout> | undefined;
  #writing: Promise<void> = Promise.resolve();

  constructor(
    private readonly options: {
      write: (rows: Row[]) => Promise<void>;
      onDrop: (rows: number, error: unknown) => void;
      lingerMs?: number;
      maxRows?: number;
      maxBuffered?: number;
    },
  ) {}

  /** Queues a row; never throws. */
  add(row: Row): void {
    if (this.#buffer.length >= (this.options.maxBuffered ?? 5_000)) {
      this.options.onDrop(1, new Error("buffer full"));
      return;
    }
    this.#buffer.push(row);
    if (this.#buffer.length >= (this.options.maxRows ?? 200)) this.#flushSoon(0);
    else this.#flushSoon(this.options.lingerMs ?? 200);
  }

  #flushSoon(ms: number): void {
    if (this.#timer !== undefined && ms > 0) return;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush();
    }, ms);
  }

  /** Writes what is buffered (after any write in progress); resolves when it is written or dropped. */
  flush(): Promise<void> {
    const rows = this.#buffer;
    this.#buffer = [];
    if (rows.length === 0) return this.#writing;
    this.#writing = this.#writing.then(() =>
      this.options.write(rows).catch((error: unknown) => this.options.onDrop(rows.length, error)),
    );
    return this.#writing;
  }

  /** Flushes and stops the timer. */
  async close(): Promise<void> {
    clearTimeout(this.#timer);
    this.#timer = undefined;
    await this.flush();
  }
}
