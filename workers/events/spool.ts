import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";

export interface SpoolOptions {
  /** The directory, or its claim in progress (no file is touched before it resolves). */
  dir: string | Promise<string>;
  /** Upper bound of all segment files together; the oldest segments are dropped beyond it. */
  maxBytes: number;
  /** A segment is closed and a new one begun past this size; defaults to min(8 MiB, maxBytes / 4). */
  segmentBytes?: number;
}

/** A run of records read from the spool, and the position to commit once they are delivered. */
export interface SpoolBatch {
  records: unknown[];
  /** Lines that were not valid JSON (a torn write after a crash); they are skipped. */
  corrupt: number;
  position: SpoolPosition;
}

export interface SpoolPosition {
  segment: number;
  /** Byte offset in the segment. */
  offset: number;
  /** Lines of the segment before `offset`. */
  line: number;
}

export interface SpoolStats {
  /** Bytes not yet delivered (unread parts of all segments). */
  bytes: number;
  /** Records not yet delivered. */
  records: number;
  /** Records dropped since open because the spool was full. */
  dropped: number;
  segments: number;
}

interface Segment {
  seq: number;
  size: number;
  lines: number;
}

const segmentPattern = /^seg-(\d{12})\.jsonl$/;
const cursorFile = "cursor.json";
const readChunkBytes = 1 << 20;

function countLines(content: Buffer): number {
  let lines = 0;
  for (const byte of content) if (byte === 10) lines++;
  return lines;
}

/**
 * A bounded, append-only spool of JSON records on disk.
 *
 * Format: `<dir>/seg-<12-digit sequence>.jsonl`, one JSON value per line, appended in order; only the
 * newest segment is written to, and a segment past `segmentBytes` is closed. `<dir>/cursor.json` holds
 * `{segment, offset, line}`: everything before that byte of that segment, and every older segment, was
 * delivered. It is replaced atomically (write + rename). Fully delivered segments are deleted.
 *
 * Bound: when an append would take the segment files past `maxBytes`, whole segments are deleted oldest
 * first (for live analytics the newest events are worth more than the oldest) and their undelivered
 * records are counted in `dropped`. A batch larger than the whole bound keeps only its newest records.
 * Operations run one at a time, in call order. A torn last line (crash mid-write) is skipped on read.
 */
export class Spool {
  #dir = "";
  readonly #maxBytes: number;
  readonly #segmentBytes: number;
  #segments: Segment[] = [];
  #cursor: SpoolPosition = { segment: 1, offset: 0, line: 0 };
  #dropped = 0;
  readonly #loaded: Promise<void>;
  #queue: Promise<unknown>;

  /** Starts opening (creating if needed) the spool in `options.dir`; operations wait for it. */
  constructor(options: SpoolOptions) {
    this.#maxBytes = options.maxBytes;
    this.#segmentBytes = Math.max(
      1024,
      options.segmentBytes ?? Math.min(8 << 20, Math.floor(options.maxBytes / 4)),
    );
    this.#loaded = this.#load(options.dir);
    this.#queue = this.#loaded.catch(() => undefined);
  }

  /** Opens the spool and waits until its state is recovered from the files. */
  static async open(options: SpoolOptions): Promise<Spool> {
    const spool = new Spool(options);
    await spool.ready();
    return spool;
  }

  /** Resolves once the files are read (stats are zero before); rejects if the directory is unusable. */
  ready(): Promise<void> {
    return this.#loaded;
  }

  stats(): SpoolStats {
    const head = this.#segments[0];
    const consumed = head && head.seq === this.#cursor.segment ? this.#cursor : { offset: 0, line: 0 };
    return {
      bytes: this.#segments.reduce((sum, s) => sum + s.size, 0) - consumed.offset,
      records: this.#segments.reduce((sum, s) => sum + s.lines, 0) - consumed.line,
      dropped: this.#dropped,
      segments: this.#segments.length,
    };
  }

  /** True when nothing is waiting for delivery. */
  isEmpty(): boolean {
    return this.stats().records === 0;
  }

  /** Appends records at the end, dropping the oldest segments if the bound requires. */
  append(records: readonly unknown[]): Promise<void> {
    return this.#serial(() => this.#append(records));
  }

  /** Reads up to `max` undelivered records, oldest first, without consuming them. */
  read(max: number): Promise<SpoolBatch> {
    return this.#serial(() => this.#read(max));
  }

  /** Marks everything before `position` (from a `read`) delivered. */
  commit(position: SpoolPosition): Promise<void> {
    return this.#serial(() => this.#commit(position));
  }

  #serial<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(() => this.#loaded).then(task);
    this.#queue = run.catch(() => undefined);
    return run;
  }

  #path(seq: number): string {
    return join(this.#dir, `seg-${String(seq).padStart(12, "0")}.jsonl`);
  }

  /** The directory the spool lives in (empty until `ready` resolves). */
  dir(): string {
    return this.#dir;
  }

  async #load(dir: string | Promise<string>): Promise<void> {
    this.#dir = await dir;
    await mkdir(this.#dir, { recursive: true });
    const names = (await readdir(this.#dir)).filter((n) => segmentPattern.test(n)).sort();
    for (const name of names) {
      const seq = Number.parseInt(segmentPattern.exec(name)?.[1] ?? "0", 10);
      const content = await readFile(join(this.#dir, name));
      let size = content.length;
      if (size > 0 && content[size - 1] !== 10) {
        // A torn last line: end it so the next append starts on a line of its own.
        await writeFile(join(this.#dir, name), "\n", { flag: "a" });
        size++;
      }
      this.#segments.push({ seq, size, lines: countLines(content) + (size > content.length ? 1 : 0) });
    }
    const saved = await readFile(join(this.#dir, cursorFile), "utf8").then(
      (text) => JSON.parse(text) as SpoolPosition,
      () => undefined,
    );
    const head = this.#segments[0];
    if (saved && head && saved.segment >= head.seq) {
      for (const s of this.#segments.filter((x) => x.seq < saved.segment))
        await rm(this.#path(s.seq), { force: true });
      this.#segments = this.#segments.filter((s) => s.seq >= saved.segment);
      this.#cursor = saved;
    } else {
      this.#cursor = { segment: head?.seq ?? saved?.segment ?? 1, offset: 0, line: 0 };
    }
  }

  async #append(records: readonly unknown[]): Promise<void> {
    let lines = records.map((r) => `${JSON.stringify(r)}\n`);
    let bytes = lines.reduce((sum, l) => sum + Buffer.byteLength(l), 0);
    while (bytes > this.#maxBytes && lines.length > 0) {
      bytes -= Buffer.byteLength(lines[0] ?? "");
      lines = lines.slice(1);
      this.#dropped++;
    }
    if (lines.length === 0) return;
    const last = this.#segments.at(-1);
    if (!last || last.size >= this.#segmentBytes) {
      const seq = last ? last.seq + 1 : this.#cursor.segment;
      this.#segments.push({ seq, size: 0, lines: 0 });
      if (this.#segments.length === 1) await this.#saveCursor({ segment: seq, offset: 0, line: 0 });
    }
    await this.#dropOldestUntil(bytes);
    const tail = this.#segments.at(-1);
    if (!tail) return;
    await writeFile(this.#path(tail.seq), lines.join(""), { flag: "a" });
    tail.size += bytes;
    tail.lines += lines.length;
  }

  /** Deletes whole segments, oldest first, until `incoming` more bytes fit under the bound. */
  async #dropOldestUntil(incoming: number): Promise<void> {
    const total = () => this.#segments.reduce((sum, s) => sum + s.size, 0);
    while (total() + incoming > this.#maxBytes) {
      const oldest = this.#segments[0];
      if (!oldest || oldest.size === 0) return;
      const consumed = oldest.seq === this.#cursor.segment ? this.#cursor.line : 0;
      this.#dropped += oldest.lines - consumed;
      await rm(this.#path(oldest.seq), { force: true });
      if (this.#segments.length > 1) {
        this.#segments.shift();
      } else {
        // The segment being written is itself in the way: start a fresh one after it.
        this.#segments = [{ seq: oldest.seq + 1, size: 0, lines: 0 }];
      }
      await this.#saveCursor({ segment: this.#segments[0]?.seq ?? oldest.seq + 1, offset: 0, line: 0 });
    }
  }

  async #read(max: number): Promise<SpoolBatch> {
    await this.#deleteDeliveredHeads();
    const head = this.#segments[0];
    const position = { ...this.#cursor };
    if (!head || position.offset >= head.size) return { records: [], corrupt: 0, position };
    const handle = await open(this.#path(head.seq), "r");
    try {
      const length = Math.min(readChunkBytes, head.size - position.offset);
      const buffer = Buffer.alloc(length);
      const { bytesRead } = await handle.read(buffer, 0, length, position.offset);
      const chunk = buffer.subarray(0, bytesRead);
      const records: unknown[] = [];
      let corrupt = 0;
      let start = 0;
      while (records.length + corrupt < max) {
        const end = chunk.indexOf(10, start);
        if (end < 0) break;
        const line = chunk.subarray(start, end).toString("utf8");
        start = end + 1;
        position.line++;
        try {
          records.push(JSON.parse(line));
        } catch {
          corrupt++;
        }
      }
      if (start === 0 && bytesRead === readChunkBytes) {
        // One line longer than a read chunk: skip the chunk as corrupt rather than stall the spool.
        start = bytesRead;
        corrupt++;
      }
      position.offset += start;
      return { records, corrupt, position };
    } finally {
      await handle.close();
    }
  }

  async #commit(position: SpoolPosition): Promise<void> {
    // A position in a segment dropped meanwhile (spool full) is stale: the cursor has moved on already.
    if (position.segment !== this.#cursor.segment || position.offset < this.#cursor.offset) return;
    await this.#saveCursor(position);
    await this.#deleteDeliveredHeads();
  }

  /** A fully delivered segment that is no longer written to is deleted and the cursor moves on. */
  async #deleteDeliveredHeads(): Promise<void> {
    for (;;) {
      const head = this.#segments[0];
      if (!head || this.#segments.length < 2 || this.#cursor.offset < head.size) return;
      this.#segments.shift();
      await rm(this.#path(head.seq), { force: true });
      await this.#saveCursor({ segment: this.#segments[0]?.seq ?? head.seq + 1, offset: 0, line: 0 });
    }
  }

  async #saveCursor(position: SpoolPosition): Promise<void> {
    this.#cursor = position;
    const temp = join(this.#dir, `${cursorFile}.tmp`);
    await writeFile(temp, JSON.stringify(position));
    await rename(temp, join(this.#dir, cursorFile));
  }
}

/**
 * Total size of the segment files in a spool directory and in its per-process subdirectories (for tests
 * and operators).
 */
export async function spoolDirBytes(dir: string): Promise<number> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  let total = 0;
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) total += await spoolDirBytes(path);
    else if (segmentPattern.test(entry.name)) total += (await stat(path)).size;
  }
  return total;
}
