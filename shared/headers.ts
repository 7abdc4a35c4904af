/** Header names shared by the edge, the pool and clients. */
export const headers = {
  /** The server's id of a request (the edge makes it; the pool takes it from the signed call). */
  requestId: "x-request-id",
  /** The client's own id of a request, echoed back and kept as `client_request_id`. */
  clientRequestId: "x-client-request-id",
  /** Edge → pool: the client's request id, when it sent one. */
  poolClientRequestId: "x-tiergate-client-request-id",
  /** Edge -> pool (signed): what the guardrails decided, JSON, for the request's event. */
  guardrailDecisions: "x-tiergate-guardrail-decisions",
  cache: "x-cache",
  /** On a cache hit: `memory` (the edge isolate's memory tier) or `redis`. */
  cacheTier: "x-tiergate-cache-tier",
  cacheControl: "x-tiergate-cache",
  /** On a cache hit: `exact` (edge response cache) is implied when absent; `semantic` for a semantic hit. */
  cacheKind: "x-tiergate-cache-kind",
  /** On a semantic hit: the cosine similarity of the prompt to the stored one, e.g. `0.9731`. */
  cacheSimilarity: "x-tiergate-cache-similarity",
  /** Client → edge: `on` opts this request into the semantic cache, `off` out of it (else the key decides). */
  semanticCache: "x-tiergate-semantic-cache",
  /** Edge → pool, signed: the semantic cache directive (`ttl=<s>[;threshold=<x>][;refresh]`). */
  poolSemanticCache: "x-tiergate-pool-semantic-cache",
  /** Edge → pool, signed: payload logging for this request (`days=<n>`). */
  poolPayloadLog: "x-tiergate-pool-payload-log",
  /** Per-request response-cache TTL in seconds. */
  cacheTtl: "x-tiergate-cache-ttl",
  /** Set when an identical concurrent request's upstream answer was shared. */
  coalesced: "x-tiergate-coalesced",
  /** The reason a deterministic fallback answered instead of the pool. */
  fallback: "x-fallback",
  rateLimitLimit: "x-ratelimit-limit",
  rateLimitRemaining: "x-ratelimit-remaining",
  rateLimitReset: "x-ratelimit-reset",
  tenant: "x-tiergate-tenant",
  keyId: "x-tiergate-key-id",
  deadline: "x-tiergate-deadline",
  /** A pool worker's load on every internal answer, `<in flight>/<cap>` (shared/pool-load.ts). */
  poolLoad: "x-tiergate-pool-load",
  /**
   * W3C Server-Timing: `pool;dur=<ms>` (the pool worker's time on the request, from its admission to
   * its answer's headers) and `edge;dur=<ms>` (the edge isolate's, from entry to its response).
   */
  serverTiming: "server-timing",
  /** The key's allowed models, signed: `*` or URI-encoded names, comma-separated. */
  allowedModels: "x-tiergate-allowed-models",
  /** W3C trace context, forwarded (signed) to the pool when the client sent a valid one. */
  traceparent: "traceparent",
  region: "x-tiergate-region",
  tier: "x-tiergate-tier",
  route: "x-tiergate-route",
  provider: "x-tiergate-provider",
  modelVersion: "x-tiergate-model-version",
  /** Pool: the failed attempts and tier hops before the answer, e.g. `m-0:timeout>large`. */
  fallbackReason: "x-tiergate-fallback-reason",
  /** Pool: request fields the serving provider left out by its documented rules, e.g. `seed,user`. */
  droppedFields: "x-tiergate-dropped-fields",
  ragRule: "x-tiergate-rag-rule",
  ragScore: "x-tiergate-rag-score",
  ragCitations: "x-tiergate-rag-citations",
  signature: "x-tiergate-signature",
  timestamp: "x-tiergate-timestamp",
  nonce: "x-tiergate-nonce",
} as const;
