import { ProviderError } from "../openai-compatible/errors.ts";

/**
 * The AWS event-stream binary framing (application/vnd.amazon.eventstream), as ConverseStream sends it.
 * Each message: total length (u32 BE), headers length (u32 BE), prelude CRC32, headers, payload,
 * message CRC32 (over everything before it). A header is a 1-byte name length, the name, a 1-byte value
 * type and the value.
 */
export interface EventMessage {
  headers: Record<string, string | number | boolean>;
  payload: Uint8Array;
}

const preludeLength = 12;
const crcLength = 4;

const crcTable = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 (IEEE), as the framing uses for both checksums. */
export function crc32(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = (crcTable[(crc ^ byte) & 0xff] ?? 0) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function readHeaders(bytes: Uint8Array): EventMessage["headers"] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const decoder = new TextDecoder();
  const headers: EventMessage["headers"] = {};
  let at = 0;
  while (at < bytes.length) {
    const nameLength = view.getUint8(at);
    const name = decoder.decode(bytes.subarray(at + 1, at + 1 + nameLength));
    at += 1 + nameLength;
    const type = view.getUint8(at);
    at += 1;
    switch (type) {
      case 0:
      case 1:
        headers[name] = type === 0;
        break;
      case 2:
        headers[name] = view.getInt8(at);
        at += 1;
        break;
      case 3:
        headers[name] = view.getInt16(at);
        at += 2;
        break;
      case 4:
        headers[name] = view.getInt32(at);
        at += 4;
        break;
      case 5:
      case 8:
        headers[name] = Number(view.getBigInt64(at));
        at += 8;
        break;
      case 6:
      case 7: {
        const length = view.getUint16(at);
        headers[name] = decoder.decode(bytes.subarray(at + 2, at + 2 + length));
        at += 2 + length;
        break;
      }
      case 9:
        headers[name] = [...bytes.subarray(at, at + 16)].map((b) => b.toString(16).padStart(2, "0")).join("");
        at += 16;
        break;
      default:
        throw new ProviderError("stream_cut", `event stream: unknown header type ${type}`);
    }
  }
  return headers;
}

/** Decodes messages from a byte stream, checking both CRCs; a frame cut short or corrupted throws `stream_cut`. */
export class EventStreamDecoder {
  private buffer = new Uint8Array(0);

  /** Appends bytes and returns every message now complete. */
  push(bytes: Uint8Array): EventMessage[] {
    const joined = new Uint8Array(this.buffer.length + bytes.length);
    joined.set(this.buffer);
    joined.set(bytes, this.buffer.length);
    this.buffer = joined;
    const messages: EventMessage[] = [];
    for (;;) {
      if (this.buffer.length < preludeLength) break;
      const view = new DataView(this.buffer.buffer, this.buffer.byteOffset, this.buffer.byteLength);
      const total = view.getUint32(0);
      const headersLength = view.getUint32(4);
      if (crc32(this.buffer.subarray(0, 8)) !== view.getUint32(8)) {
        throw new ProviderError("stream_cut", "event stream: prelude checksum mismatch");
      }
      if (total < preludeLength + crcLength + headersLength) {
        throw new ProviderError("stream_cut", "event stream: malformed message length");
      }
      if (this.buffer.length < total) break;
      const message = this.buffer.subarray(0, total);
      if (crc32(message.subarray(0, total - crcLength)) !== view.getUint32(total - crcLength)) {
        throw new ProviderError("stream_cut", "event stream: message checksum mismatch");
      }
      const headersEnd = preludeLength + headersLength;
      messages.push({
        headers: readHeaders(message.subarray(preludeLength, headersEnd)),
        payload: message.slice(headersEnd, total - crcLength),
      });
      this.buffer = this.buffer.slice(total);
    }
    return messages;
  }

  /** Whether bytes of an unfinished message are left over (a stream that ended mid-frame). */
  get pending(): boolean {
    return this.buffer.length > 0;
  }
}
