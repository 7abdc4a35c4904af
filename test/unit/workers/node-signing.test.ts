import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { randomNonce, sha256Hex, sign } from "../../../shared/signing.ts";
import { sha256HexSync } from "../../../workers/lib/sha256.ts";
import { signatureMatches, signSync } from "../../../workers/pool/middleware/node-signing.ts";

const secret = "s".repeat(40);

/** Signs like the edge does: Web Crypto over the body's Web Crypto hash. */
async function edgeSign(body: string, timestamp = 1_700_000_000_000, nonce = randomNonce()) {
  const input = {
    method: "post",
    path: "/internal/v1/chat/completions",
    timestamp,
    nonce,
    bodySha256: await sha256Hex(body),
  };
  return { input, signature: await sign(secret, input) };
}

describe("pool-side signing with node:crypto", () => {
  it("verifies a signature the edge made with Web Crypto, and rejects a tampered body", async () => {
    const body = JSON.stringify({ model: "auto", messages: [{ role: "user", content: "héllo 👋" }] });
    const { input, signature } = await edgeSign(body);
    const poolInput = { ...input, bodySha256: sha256HexSync(body) };
    expect(signatureMatches(secret, poolInput, signature)).toBe(true);

    const tampered = { ...input, bodySha256: sha256HexSync(`${body} `) };
    expect(signatureMatches(secret, tampered, signature)).toBe(false);
    expect(signatureMatches("t".repeat(40), poolInput, signature)).toBe(false);
    expect(signatureMatches(secret, { ...poolInput, nonce: "other" }, signature)).toBe(false);
    expect(signatureMatches(secret, poolInput, signature.slice(1))).toBe(false);
    expect(signatureMatches(secret, poolInput, `${signature.slice(0, -1)}é`)).toBe(false);
  });

  it("hashes and signs exactly like the Web Crypto side for any body", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.string({ unit: "binary" }), fc.string({ unit: "grapheme" }), fc.constant("\ud800 lone")),
        fc.string(),
        async (body, nonce) => {
          expect(sha256HexSync(body)).toBe(await sha256Hex(body));
          const { input, signature } = await edgeSign(body, Date.now(), nonce);
          expect(signSync(secret, input)).toBe(signature);
        },
      ),
      { numRuns: 200 },
    );
  });
});
