import type { Context } from "hono";
import { createMiddleware } from "hono/factory";
import { GatewayError } from "../../../shared/errors.ts";
import { headers } from "../../../shared/headers.ts";
import {
  parseAllowedModels,
  parseSignatureHeader,
  type SignatureHeader,
  trafficCredential,
  trustedHeaders,
} from "../../../shared/signing.ts";
import { sha256HexSync } from "../../lib/sha256.ts";
import { bootLogger } from "../env.ts";
import type { NonceStore } from "../nonce-store.ts";
import type { PoolServices } from "../services.ts";
import type { Caller, PoolHonoEnv } from "../types.ts";
import { readBodyWithin } from "./body-limit.ts";
import { signatureMatchesAny } from "./node-signing.ts";

/** A signature older or newer than this is stale. */
export const maxSkewMs = 30_000;
/** Nonces are remembered for as long as their timestamp can pass the skew check, plus a margin. */
const nonceTtlMs = 2 * maxSkewMs + 5_000;
const noncePattern = /^[A-Za-z0-9_-]{16,128}$/;
/** Stateless between calls (no `stream` option), so one serves every request. */
const utf8 = new TextDecoder();

export interface SignatureCheckOptions {
  /** The traffic signing secrets: the current one, and the previous one while a rotation is under way. */
  trafficSecrets: readonly string[];
  /** Admin credentials, name → secret. The name is the audit actor. */
  adminSecrets: ReadonlyMap<string, string>;
  /** Shared by every worker of the region (Redis); see nonce-store.ts. */
  nonces: NonceStore;
  /** Bodies past this are refused (413) before they are read or hashed. */
  maxBodyBytes: number;
}

function unauthorized(message: string): GatewayError {
  return new GatewayError("INVALID_SIGNATURE", message);
}

/** The signature header, timestamp and nonce, checked without reading the body. */
function readEnvelope(c: Context<PoolHonoEnv>): {
  header: SignatureHeader;
  timestamp: number;
  nonce: string;
} {
  const header = parseSignatureHeader(c.req.header(headers.signature));
  const rawTimestamp = c.req.header(headers.timestamp) ?? "";
  const timestamp = Number(rawTimestamp);
  const nonce = c.req.header(headers.nonce) ?? "";
  if (!header || !/^\d{1,16}$/.test(rawTimestamp) || !noncePattern.test(nonce)) {
    throw unauthorized("This endpoint only accepts signed calls from the edge.");
  }
  if (Math.abs(Date.now() - timestamp) > maxSkewMs) throw unauthorized("Stale signature.");
  return { header, timestamp, nonce };
}

/** Every trusted header on the call must be signed, and every signed header must be on the call. */
function signedValues(c: Context<PoolHonoEnv>, header: SignatureHeader): Record<string, string> {
  for (const name of trustedHeaders) {
    if (c.req.header(name) !== undefined && !header.signedHeaders.includes(name)) {
      throw unauthorized(`The header ${name} is not signed.`);
    }
  }
  const values: Record<string, string> = {};
  for (const name of header.signedHeaders) {
    const value = c.req.header(name);
    if (value === undefined) throw unauthorized(`The signed header ${name} is missing.`);
    values[name] = value;
  }
  return values;
}

function secretsFor(options: SignatureCheckOptions, credential: string): readonly string[] {
  if (credential === trafficCredential) return options.trafficSecrets;
  const admin = options.adminSecrets.get(credential);
  if (admin === undefined) throw unauthorized("Unknown credential.");
  return [admin];
}

/** The raw path and query as they arrived (not decoded). */
function rawTarget(url: string): { path: string; query: string } {
  const parsed = new URL(url);
  return { path: parsed.pathname, query: parsed.search.slice(1) };
}

function callerOf(credential: string, signed: Record<string, string>): Caller {
  const allowedRaw = signed[headers.allowedModels];
  const allowedModels = allowedRaw === undefined ? null : parseAllowedModels(allowedRaw);
  if (allowedModels === undefined) {
    throw new GatewayError("BAD_REQUEST", `Malformed ${headers.allowedModels}.`);
  }
  const deadline = Number(signed[headers.deadline]);
  return {
    kind: credential === trafficCredential ? "traffic" : "admin",
    credential,
    tenant: signed[headers.tenant],
    keyId: signed[headers.keyId],
    allowedModels,
    deadline: Number.isFinite(deadline) && deadline > 0 ? deadline : undefined,
    traceparent: signed[headers.traceparent],
  };
}

/**
 * Only the edge (or an admin credential) may call `/internal/*`. In order, so that no unsigned call
 * costs more than header parsing: the signature header, timestamp (±30 s) and nonce; that every
 * trusted header is signed; the credential; the body size (413 before the body is read); the HMAC over
 * method, path, query, timestamp, nonce, body hash and signed headers (the current or previous secret);
 * and last the nonce, claimed once per region in the shared store (503 when the store is down).
 * Failures are 401. Sets `rawBody`, `caller`, and `c.var.log`: the worker's logger bound to the call's
 * request id and signed tenant.
 */
export function verifySignature(options: SignatureCheckOptions) {
  return createMiddleware<PoolHonoEnv>(async (c, next) => {
    const { header, timestamp, nonce } = readEnvelope(c);
    const signed = signedValues(c, header);
    const secrets = secretsFor(options, header.credential);
    const body = await readBodyWithin(c.req.raw, options.maxBodyBytes);
    const input = {
      method: c.req.method,
      ...rawTarget(c.req.url),
      timestamp,
      nonce,
      bodySha256: sha256HexSync(body),
      headers: signed,
    };
    if (!signatureMatchesAny(secrets, input, header.signature)) throw unauthorized("Bad signature.");
    let fresh: boolean;
    try {
      fresh = await options.nonces.claim(nonce, nonceTtlMs);
    } catch (error: unknown) {
      throw new GatewayError("UPSTREAM_UNAVAILABLE", "Replay protection is unavailable; try again.", {
        headers: { "retry-after": "1" },
        cause: error,
      });
    }
    if (!fresh) throw unauthorized("Replayed request.");
    const text = utf8.decode(body);
    // The stream is consumed: later readers (c.req.json/text, validators) get the verified bytes from
    // Hono's body cache, which holds promises at run time (its type says methods).
    (c.req.bodyCache as unknown as { text?: Promise<string> }).text = Promise.resolve(text);
    c.set("rawBody", text);
    const caller = callerOf(header.credential, signed);
    c.set("caller", caller);
    // Only the signed tenant is trusted: every line of the call carries it.
    const services: PoolServices | undefined = c.get("services");
    const logger = services?.logger ?? bootLogger;
    c.set("log", logger.child({ request_id: c.get("requestId"), tenant: caller.tenant }));
    await next();
  });
}

/**
 * Least privilege per credential: admin paths (registry, drift) need an admin credential and every
 * other signed path the traffic one. The other kind gets 403.
 */
export function authorizeCredential(isAdminPath: (path: string) => boolean) {
  return createMiddleware<PoolHonoEnv>(async (c, next) => {
    const admin = isAdminPath(c.req.path);
    if (admin && c.get("caller").kind !== "admin") {
      throw new GatewayError("ADMIN_REQUIRED", "This operation needs an admin credential.");
    }
    if (!admin && c.get("caller").kind !== "traffic") {
      throw new GatewayError("ADMIN_REQUIRED", "An admin credential cannot make traffic calls.");
    }
    await next();
  });
}
