import { createHash, createHmac } from "node:crypto";
import type { SeenRequest } from "./server.ts";

/**
 * Verifies an AWS Signature Version 4 `Authorization` header as AWS documents it, independently of the
 * signer under test: canonical request (method, path with each segment URI-encoded twice, sorted query,
 * signed headers, payload SHA-256), string to sign, the HMAC key chain and the credential scope.
 */
export interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
}

/** Why a request fails SigV4, as AWS names it; undefined when the signature is valid. */
export type SigV4Failure =
  | { type: "MissingAuthenticationTokenException"; message: string }
  | { type: "UnrecognizedClientException"; message: string }
  | { type: "InvalidSignatureException"; message: string };

const rfc3986 = (text: string) =>
  encodeURIComponent(text).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
const hmac = (key: Buffer | string, text: string) => createHmac("sha256", key).update(text, "utf8").digest();

function canonicalQuery(search: URLSearchParams): string {
  return [...search.entries()]
    .map(([k, v]) => [rfc3986(k), rfc3986(v)] as const)
    .sort(([a, x], [b, y]) => (a === b ? (x < y ? -1 : 1) : a < b ? -1 : 1))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
}

/** Checks the signature of `request` for `service` and `region`. */
export function verifySigV4(
  request: SeenRequest,
  expected: { credentials: Credentials; service: string; region: string },
): SigV4Failure | undefined {
  const authorization = request.headers.authorization;
  if (!authorization)
    return { type: "MissingAuthenticationTokenException", message: "Missing Authentication Token" };
  const match =
    /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/.exec(
      authorization,
    );
  if (!match) return { type: "InvalidSignatureException", message: "Authorization header is malformed." };
  const [, keyId, date, region, service, signedHeaders = "", signature] = match;
  if (keyId !== expected.credentials.accessKeyId) {
    return {
      type: "UnrecognizedClientException",
      message: "The security token included in the request is invalid.",
    };
  }
  if (region !== expected.region || service !== expected.service) {
    return {
      type: "InvalidSignatureException",
      message: `Credential should be scoped to a valid region/service (${expected.region}/${expected.service}).`,
    };
  }
  const amzDate = request.headers["x-amz-date"];
  if (!amzDate?.startsWith(date ?? ""))
    return { type: "InvalidSignatureException", message: "X-Amz-Date does not match the credential date." };
  const names = signedHeaders.split(";");
  if (!names.includes("host") || !names.includes("x-amz-date")) {
    return { type: "InvalidSignatureException", message: "host and x-amz-date must be signed." };
  }
  const url = new URL(request.url, "http://localhost");
  const path = url.pathname.split("/").map(rfc3986).join("/");
  const headers = names
    .map((name) => `${name}:${(request.headers[name] ?? "").trim().replace(/\s+/g, " ")}\n`)
    .join("");
  const canonical = [
    request.method,
    path,
    canonicalQuery(url.searchParams),
    headers,
    signedHeaders,
    sha256(request.body),
  ].join("\n");
  const scope = `${date}/${region}/${service}/aws4_request`;
  const toSign = ["AWS4-HMAC-SHA256", amzDate, scope, sha256(canonical)].join("\n");
  let key = hmac(`AWS4${expected.credentials.secretAccessKey}`, date ?? "");
  for (const part of [region ?? "", service ?? "", "aws4_request"]) key = hmac(key, part);
  const expectedSignature = createHmac("sha256", key).update(toSign, "utf8").digest("hex");
  if (expectedSignature !== signature) {
    return {
      type: "InvalidSignatureException",
      message: "The request signature we calculated does not match the signature you provided.",
    };
  }
  return undefined;
}
