/**
 * Edge-to-pool request signing: HMAC-SHA256 over the method, the path, the raw query, a timestamp, a
 * single-use nonce, the body's sha256 and every header the pool trusts (tenant, key id, allowed models,
 * deadline, request id, trace context). The headers covered are named in the signature header itself
 * (`SignedHeaders=…`, as in SigV4), and that list is part of the signed message, so a header can be
 * neither altered, added unsigned, nor dropped. Uses only Web Crypto, so it runs in workerd, Deno, Bun
 * and Node alike; the pool verifies with node:crypto over the same `signatureMessage`.
 */
import { headers } from "./headers.ts";

const encoder = new TextEncoder();

/** "00".."ff" by byte value: one lookup per byte instead of toString + padStart. */
const hexOfByte = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, "0"));

/** Lower-case hex of the bytes. */
export function toHex(buffer: ArrayBuffer): string {
  const bytes = new Uint8Array(buffer);
  let out = "";
  for (let i = 0; i < bytes.length; i++) out += hexOfByte[bytes[i] as number];
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

/**
 * The headers the pool trusts. When one of them is on a call it must be signed (named in
 * `SignedHeaders`); the pool refuses a call that carries any of them unsigned.
 */
export const trustedHeaders = [
  headers.requestId,
  headers.tenant,
  headers.keyId,
  headers.allowedModels,
  headers.deadline,
  headers.traceparent,
  headers.poolClientRequestId,
  headers.guardrailDecisions,
  headers.poolSemanticCache,
  headers.poolPayloadLog,
] as const;

/** The credential name of traffic calls (the edge's signing secret); admin credentials have their own names. */
export const trafficCredential = "edge";

export interface SignatureInput {
  method: string;
  path: string;
  /** The raw query string without `?` ("" when there is none). */
  query?: string;
  timestamp: number;
  nonce: string;
  bodySha256: string;
  /** The signed headers: lower-case name → value. */
  headers?: Readonly<Record<string, string>>;
}

/** Lower-case, sorted, de-duplicated header names: the one order both sides use. */
export function canonicalNames(names: Iterable<string>): string[] {
  return [...new Set([...names].map((n) => n.toLowerCase()))].sort();
}

/**
 * The signed message, one field per line: a version tag, method, path, raw query, timestamp, nonce,
 * body sha256, the signed header names (`;`-joined) and then `name:value` per signed header. The only
 * definition of the format; the edge signs it with Web Crypto (`sign`), the pool verifies it with
 * node:crypto (workers/pool/middleware/node-signing.ts).
 */
export function signatureMessage(input: SignatureInput): string {
  const signed = input.headers ?? {};
  const names = canonicalNames(Object.keys(signed));
  const lines = [
    "tiergate-v2",
    input.method.toUpperCase(),
    input.path,
    input.query ?? "",
    String(input.timestamp),
    input.nonce,
    input.bodySha256,
    names.join(";"),
  ];
  for (const name of names) lines.push(`${name}:${(signed[name] ?? "").trim()}`);
  return lines.join("\n");
}

/** HMAC-SHA256 (hex) of `signatureMessage(input)` with Web Crypto. */
export async function sign(secret: string, input: SignatureInput): Promise<string> {
  const message = encoder.encode(signatureMessage(input));
  return toHex(await crypto.subtle.sign("HMAC", await hmacKey(secret), message));
}

/** What the signature header carries. */
export interface SignatureHeader {
  credential: string;
  signedHeaders: string[];
  signature: string;
}

const credentialPattern = /^[A-Za-z0-9_.:-]{1,64}$/;
const headerNamePattern = /^[a-z0-9-]{1,64}$/;

/** `HMAC-SHA256 Credential=<name>, SignedHeaders=<a;b;c>, Signature=<hex>`. */
export function formatSignatureHeader(value: SignatureHeader): string {
  return `HMAC-SHA256 Credential=${value.credential}, SignedHeaders=${canonicalNames(value.signedHeaders).join(";")}, Signature=${value.signature}`;
}

/** Parses the signature header; null when it is not exactly the format above. */
export function parseSignatureHeader(raw: string | undefined): SignatureHeader | null {
  const match = raw?.match(
    /^HMAC-SHA256 Credential=([^,\s]+), SignedHeaders=([a-z0-9;-]*), Signature=([0-9a-f]{64})$/,
  );
  if (!match) return null;
  const [, credential = "", list = "", signature = ""] = match;
  const signedHeaders = list === "" ? [] : list.split(";");
  if (!credentialPattern.test(credential) || !signedHeaders.every((n) => headerNamePattern.test(n)))
    return null;
  if (canonicalNames(signedHeaders).join(";") !== signedHeaders.join(";")) return null;
  return { credential, signedHeaders, signature };
}

/** A call to sign: the path may carry a query (`/x?a=1`); `headers` are signed and sent. */
export interface CallToSign {
  method: string;
  /** Path and raw query, as it goes on the wire. */
  pathAndQuery: string;
  body: string;
  /** Trusted headers (lower-case names) to send signed; empty values are left out. */
  headers: Readonly<Record<string, string | undefined>>;
  /** `edge` for traffic, or the admin credential's name. */
  credential?: string;
  /** Defaults: now and a random nonce (tests pass their own). */
  timestamp?: number;
  nonce?: string;
}

/** Splits `/path?query` into the path and the raw query. */
export function splitPath(pathAndQuery: string): { path: string; query: string } {
  const at = pathAndQuery.indexOf("?");
  return at < 0
    ? { path: pathAndQuery, query: "" }
    : { path: pathAndQuery.slice(0, at), query: pathAndQuery.slice(at + 1) };
}

/**
 * Every header of a signed call: the trusted headers themselves, the timestamp, the nonce and the
 * signature header naming what it covers. The one way callers (edge, scheduler, tests) sign.
 */
export async function signedHeaders(secret: string, call: CallToSign): Promise<Record<string, string>> {
  const timestamp = call.timestamp ?? Date.now();
  const nonce = call.nonce ?? randomNonce();
  const signed: Record<string, string> = {};
  for (const [name, value] of Object.entries(call.headers)) {
    if (value !== undefined && value !== "") signed[name.toLowerCase()] = value;
  }
  const { path, query } = splitPath(call.pathAndQuery);
  const signature = await sign(secret, {
    method: call.method,
    path,
    query,
    timestamp,
    nonce,
    bodySha256: await sha256Hex(call.body),
    headers: signed,
  });
  return {
    ...signed,
    [headers.timestamp]: String(timestamp),
    [headers.nonce]: nonce,
    [headers.signature]: formatSignatureHeader({
      credential: call.credential ?? trafficCredential,
      signedHeaders: Object.keys(signed),
      signature,
    }),
  };
}

/**
 * `x-tiergate-allowed-models`: `*` for any model, else `=` and the names URI-encoded, comma-separated
 * (`=` alone: no model at all; `=` cannot start an encoded name).
 */
export function formatAllowedModels(allowed: readonly string[] | null | undefined): string {
  return allowed ? `=${allowed.map(encodeURIComponent).join(",")}` : "*";
}

/** The inverse of `formatAllowedModels`: null means any model. Undefined for a malformed value. */
export function parseAllowedModels(raw: string): string[] | null | undefined {
  if (raw === "*") return null;
  if (!raw.startsWith("=")) return undefined;
  if (raw === "=") return [];
  const names: string[] = [];
  for (const part of raw.slice(1).split(",")) {
    try {
      names.push(decodeURIComponent(part));
    } catch {
      return undefined;
    }
  }
  return names;
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
