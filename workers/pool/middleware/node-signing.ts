/**
 * The pool's side of edge-to-pool signing with node:crypto: synchronous, and far cheaper in Bun than
 * Web Crypto's async `crypto.subtle`. The message format comes from shared/signing.ts.
 */
import { createHmac, timingSafeEqual } from "node:crypto";
import { type SignatureInput, signatureMessage } from "../../../shared/signing.ts";

/** Hex HMAC-SHA256 of the signed message; equals shared/signing.ts `sign`. */
export function signSync(secret: string, input: SignatureInput): string {
  return createHmac("sha256", secret).update(signatureMessage(input)).digest("hex");
}

/** Whether `signature` (hex, as sent) is the HMAC of `input`, compared in constant time. */
export function signatureMatches(secret: string, input: SignatureInput, signature: string): boolean {
  const expected = Buffer.from(signSync(secret, input), "utf8");
  const given = Buffer.from(signature, "utf8");
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/**
 * Whether `signature` matches under any of `secrets` (the current and the previous signing secret
 * during a rotation). Every secret is tried, so the time taken does not say which one matched.
 */
export function signatureMatchesAny(
  secrets: readonly string[],
  input: SignatureInput,
  signature: string,
): boolean {
  let matched = false;
  for (const secret of secrets) matched = signatureMatches(secret, input, signature) || matched;
  return matched;
}
