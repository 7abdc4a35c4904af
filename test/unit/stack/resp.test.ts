import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { toJson } from "../../stack/upstash-bridge/handler.ts";
import {
  encodeCommand,
  encodeCommands,
  RespDecoder,
  RespProtocolError,
  RespReplyError,
  type RespValue,
} from "../../stack/upstash-bridge/resp.ts";
import { stripUpstashScriptFlags } from "../../stack/upstash-bridge/script-compat.ts";

const wire = (text: string) => Buffer.from(text, "utf8");

/** Encodes a reply the way a server would, to feed the decoder. */
function encodeReply(value: RespValue): Buffer {
  if (value === null) return wire("$-1\r\n");
  if (typeof value === "number") return wire(`:${value}\r\n`);
  if (typeof value === "string") return wire(`+${value}\r\n`);
  if (value instanceof RespReplyError) return wire(`-${value.message}\r\n`);
  if (Buffer.isBuffer(value)) return Buffer.concat([wire(`$${value.length}\r\n`), value, wire("\r\n")]);
  return Buffer.concat([wire(`*${value.length}\r\n`), ...value.map(encodeReply)]);
}

const replyArbitrary = fc.letrec<{ value: RespValue }>((tie) => ({
  value: fc.oneof(
    { depthSize: "small" },
    fc.constant(null),
    fc.integer(),
    fc.stringMatching(/^[^\r\n]*$/),
    fc.uint8Array({ maxLength: 40 }).map((bytes) => Buffer.from(bytes)),
    fc.stringMatching(/^[^\r\n]*$/).map((m) => new RespReplyError(m)),
    fc.array(tie("value"), { maxLength: 4 }),
  ),
})).value;

describe("encodeCommand", () => {
  it("writes an array of bulk strings with byte lengths", () => {
    expect(encodeCommand(["SET", "k", "é"]).toString()).toBe("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2\r\né\r\n");
  });

  it("keeps binary arguments intact", () => {
    const bytes = Buffer.from([0, 13, 10, 255]);
    const encoded = encodeCommand(["SET", bytes]);
    expect(encoded.subarray(encoded.length - 6)).toEqual(Buffer.concat([bytes, wire("\r\n")]));
  });

  it("concatenates several commands for one pipelined write", () => {
    expect(encodeCommands([["PING"], ["GET", "a"]]).toString()).toBe(
      "*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\na\r\n",
    );
  });
});

describe("RespDecoder", () => {
  it("decodes every reply type", () => {
    const decoder = new RespDecoder();
    const replies = decoder.push(
      wire("+OK\r\n-ERR bad\r\n:42\r\n$3\r\nabc\r\n$-1\r\n*2\r\n:1\r\n*-1\r\n$0\r\n\r\n"),
    );
    expect(replies).toEqual([
      "OK",
      new RespReplyError("ERR bad"),
      42,
      Buffer.from("abc"),
      null,
      [1, null],
      Buffer.alloc(0),
    ]);
    expect(decoder.pendingBytes).toBe(0);
  });

  it("keeps a partial reply until the rest arrives", () => {
    const decoder = new RespDecoder();
    expect(decoder.push(wire("*2\r\n$5\r\nhel"))).toEqual([]);
    expect(decoder.push(wire("lo\r\n:7"))).toEqual([]);
    expect(decoder.push(wire("\r\n+PONG\r\n"))).toEqual([[Buffer.from("hello"), 7], "PONG"]);
  });

  it("decodes bulk strings that contain CRLF", () => {
    expect(new RespDecoder().push(wire("$4\r\na\r\nb\r\n"))).toEqual([Buffer.from("a\r\nb")]);
  });

  it("rejects bytes that are not RESP", () => {
    expect(() => new RespDecoder().push(wire("!oops\r\n"))).toThrow(RespProtocolError);
    expect(() => new RespDecoder().push(wire("$x\r\n"))).toThrow(RespProtocolError);
  });

  it("decodes any stream of replies, however it is split into chunks", () => {
    fc.assert(
      fc.property(fc.array(replyArbitrary, { minLength: 1, maxLength: 5 }), fc.nat(), (replies, seed) => {
        const bytes = Buffer.concat(replies.map(encodeReply));
        const decoder = new RespDecoder();
        const decoded: RespValue[] = [];
        let offset = 0;
        let step = (seed % 7) + 1;
        while (offset < bytes.length) {
          decoded.push(...decoder.push(bytes.subarray(offset, offset + step)));
          offset += step;
          step = (step * 3 + 1) % 11 || 1;
        }
        expect(decoded).toEqual(replies);
        expect(decoder.pendingBytes).toBe(0);
      }),
    );
  });
});

describe("toJson (Upstash result encoding)", () => {
  it("returns plain strings without base64", () => {
    expect(toJson([Buffer.from("v"), "PONG", 3, null], false)).toEqual(["v", "PONG", 3, null]);
  });

  it("base64-encodes every string, nested too, but keeps a top-level OK", () => {
    expect(toJson("OK", true)).toBe("OK");
    expect(toJson(Buffer.from("hello"), true)).toBe("aGVsbG8=");
    expect(toJson([Buffer.from("a"), ["OK", 1]], true)).toEqual(["YQ==", ["T0s=", 1]]);
  });

  it("base64 keeps bytes that are not UTF-8", () => {
    expect(toJson(Buffer.from([0xff, 0x00]), true)).toBe("/wA=");
  });
});

describe("stripUpstashScriptFlags", () => {
  it("drops flags vanilla Redis does not know and keeps the rest", () => {
    expect(stripUpstashScriptFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua\nreturn 1");
    expect(stripUpstashScriptFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
  });

  it("leaves scripts without Upstash-only flags untouched", () => {
    for (const script of ["return 1", "#!lua flags=no-writes\nreturn 1", "#!lua\nreturn 1"]) {
      expect(stripUpstashScriptFlags(script)).toBe(script);
    }
  });
});
