/**
 * RESP2 codec: encodes commands as arrays of bulk strings and incrementally decodes replies.
 * Pure Node-compatible code (Buffer only), so it runs under Bun and under Vitest on Node.
 */

/** An error reply (`-ERR ...`). It is a value, not a thrown error: a pipeline can mix results and errors. */
export class RespReplyError {
  constructor(readonly message: string) {}
}

/**
 * A decoded reply. Simple strings are `string`, bulk strings are `Buffer` (binary-safe),
 * integers are `number`, nil bulk strings and nil arrays are `null`.
 */
export type RespValue = string | Buffer | number | null | RespReplyError | RespValue[];

/** A command argument as it goes on the wire. */
export type RespArg = string | Buffer;

/** Thrown when the byte stream is not valid RESP2; the connection cannot be trusted afterwards. */
export class RespProtocolError extends Error {
  override readonly name = "RespProtocolError";
}

/** Encodes one command (`["SET", "k", "v"]`) as a RESP array of bulk strings. */
export function encodeCommand(args: readonly RespArg[]): Buffer {
  if (args.every((a) => typeof a === "string")) {
    let text = `*${args.length}\r\n`;
    for (const arg of args as readonly string[]) text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`;
    return Buffer.from(text);
  }
  const parts: Buffer[] = [Buffer.from(`*${args.length}\r\n`)];
  for (const arg of args) {
    const bytes = typeof arg === "string" ? Buffer.from(arg) : arg;
    parts.push(Buffer.from(`$${bytes.length}\r\n`), bytes, CRLF);
  }
  return Buffer.concat(parts);
}

/** Encodes several commands into one buffer, for a single socket write (pipelining). */
export function encodeCommands(commands: readonly (readonly RespArg[])[]): Buffer {
  if (commands.length === 1 && commands[0]) return encodeCommand(commands[0]);
  return Buffer.concat(commands.map(encodeCommand));
}

const CRLF = Buffer.from("\r\n");
const INCOMPLETE = Symbol("incomplete");
type Parsed = RespValue | typeof INCOMPLETE;

/**
 * Streaming decoder: feed it socket chunks in order, get back every reply completed so far.
 * A reply split across chunks is kept until the rest arrives.
 */
export class RespDecoder {
  private buffer: Buffer = Buffer.alloc(0);
  private pos = 0;

  /** Appends a chunk and returns the replies it completed, in order. Throws RespProtocolError on garbage. */
  push(chunk: Buffer): RespValue[] {
    this.buffer = this.buffer.length === 0 ? chunk : Buffer.concat([this.buffer, chunk]);
    this.pos = 0;
    const replies: RespValue[] = [];
    while (this.pos < this.buffer.length) {
      const start = this.pos;
      const value = this.parseValue();
      if (value === INCOMPLETE) {
        this.pos = start;
        break;
      }
      replies.push(value);
    }
    this.buffer = this.pos >= this.buffer.length ? Buffer.alloc(0) : this.buffer.subarray(this.pos);
    this.pos = 0;
    return replies;
  }

  /** Bytes received but not yet part of a complete reply. */
  get pendingBytes(): number {
    return this.buffer.length;
  }

  /** Drops any partial reply (after a reconnect). */
  reset(): void {
    this.buffer = Buffer.alloc(0);
    this.pos = 0;
  }

  private readLine(): string | typeof INCOMPLETE {
    const end = this.buffer.indexOf(CRLF, this.pos);
    if (end === -1) return INCOMPLETE;
    const line = this.buffer.toString("utf8", this.pos, end);
    this.pos = end + 2;
    return line;
  }

  private readLength(line: string): number {
    const n = Number(line);
    if (!Number.isInteger(n) || n < -1)
      throw new RespProtocolError(`bad RESP length: ${JSON.stringify(line)}`);
    return n;
  }

  private parseValue(): Parsed {
    const type = this.buffer[this.pos];
    this.pos += 1;
    const line = this.readLine();
    if (line === INCOMPLETE) return INCOMPLETE;
    switch (type) {
      case 0x2b: // '+'
        return line;
      case 0x2d: // '-'
        return new RespReplyError(line);
      case 0x3a: {
        // ':'
        const n = Number(line);
        if (!Number.isFinite(n)) throw new RespProtocolError(`bad RESP integer: ${JSON.stringify(line)}`);
        return n;
      }
      case 0x24: // '$'
        return this.parseBulk(this.readLength(line));
      case 0x2a: // '*'
        return this.parseArray(this.readLength(line));
      default:
        throw new RespProtocolError(`unknown RESP type byte ${String(type)}`);
    }
  }

  private parseBulk(length: number): Parsed {
    if (length === -1) return null;
    const end = this.pos + length;
    if (end + 2 > this.buffer.length) return INCOMPLETE;
    const value = Buffer.from(this.buffer.subarray(this.pos, end));
    this.pos = end + 2;
    return value;
  }

  private parseArray(length: number): Parsed {
    if (length === -1) return null;
    const items: RespValue[] = [];
    for (let i = 0; i < length; i++) {
      if (this.pos >= this.buffer.length) return INCOMPLETE;
      const item = this.parseValue();
      if (item === INCOMPLETE) return INCOMPLETE;
      items.push(item);
    }
    return items;
  }
}
