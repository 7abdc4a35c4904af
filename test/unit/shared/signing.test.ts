import { describe, expect, it } from "vitest";
import { randomNonce, safeEqual, sha256Hex, sign } from "../../../shared/signing.ts";

describe("edge-to-pool signing", () => {
  const input = {
    method: "POST",
    path: "/internal/v1/chat/completions",
    timestamp: 1_700_000_000_000,
    nonce: "n1",
    bodySha256: "ab",
  };

  it("is deterministic for the same input and secret", async () => {
    expect(await sign("s".repeat(32), input)).toBe(await sign("s".repeat(32), input));
  });

  it("changes with the secret, path, timestamp, nonce or body", async () => {
    const base = await sign("s".repeat(32), input);
    expect(await sign("t".repeat(32), input)).not.toBe(base);
    expect(await sign("s".repeat(32), { ...input, path: "/x" })).not.toBe(base);
    expect(await sign("s".repeat(32), { ...input, timestamp: input.timestamp + 1 })).not.toBe(base);
    expect(await sign("s".repeat(32), { ...input, nonce: "n2" })).not.toBe(base);
    expect(await sign("s".repeat(32), { ...input, bodySha256: "cd" })).not.toBe(base);
  });

  it("hashes with sha256 and compares safely", async () => {
    expect(await sha256Hex("abc")).toBe("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    expect(safeEqual("abcd", "abcd")).toBe(true);
    expect(safeEqual("abcd", "abce")).toBe(false);
    expect(safeEqual("abc", "abcd")).toBe(false);
    expect(randomNonce()).not.toBe(randomNonce());
  });
});
