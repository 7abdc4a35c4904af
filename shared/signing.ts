/**
 * Edge-to-pool request signing: HMAC-SHA256 over method, path, timestamp, nonce and the body's sha256.
 * Uses only Web Crypto, so it runs in workerd, Deno, Bun and Node alike. The pool verifies with
 * node:crypto instead (synchronous and much cheaper in Bun), over the same `signatureMessage`.
 */
const encoder = new TextEncoder();

export function toHex(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let out = "";
  for (const byte of bytes) out += byte.toString(16).padStart(2, "0");
  return out;
}

export async function sha256Hex(data: string | Uint8Array): Promise<string> {
  const bytes = typeof data === "string" ? encoder.encode(data) : data;
  return toHex(await crypto.subtle.digest("SHA-256", bytes as Uint8Array<ArrayBuffer>));
}

const keyCache = new Map<string, Promise<CryptoKey>>();
function hmacKey(secret: string): Promise<CryptoKey> {
  let key = keyCache.get(secret);
  if (!key) {
    key = crypto.subtle.importKey("raw", encoder.encode(secret), { name: "HMAC", hash: "SHA-256" }, false, [
      "sign",
    ]);
    keyCache.set(secret, key);
  }
  return key;
}

export interface SignatureInput {
  method: string;
  path: string;
  timestamp: number;
  nonce: string;
  bodySha256: string;
}

/**
 * The signed message: method, path, timestamp, nonce and the body's sha256, one per line. The only
 * definition of the format; the edge signs it with Web Crypto (`sign`), the pool verifies it with
 * node:crypto (workers/pool/middleware/node-signing.ts).
 */
export function signatureMessage(input: SignatureInput): string {
  return [input.method.toUpperCase(), input.path, input.timestamp, input.nonce, input.bodySha256].join("\n");
}

/** HMAC-SHA256 (hex) of `signatureMessage(input)` with Web Crypto. */
export async function sign(secret: string, input: SignatureInput): Promise<string> {
  const message = encoder.encode(signatureMessage(input));
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret), message));
}

/** Constant-time comparison of two hex strings. */
export function safeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function randomNonce(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return toHex(bytes.buffer);
}
