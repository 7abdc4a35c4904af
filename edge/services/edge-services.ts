import { Redis } from "@upstash/redis/cloudflare";
import { createLogger, type Logger } from "../../shared/logger.ts";
import { chatRequestLimitsSchema } from "../../shared/schemas/chat.ts";
import { embeddingsLimitsSchema } from "../../shared/schemas/embeddings.ts";
import { tracingConfig } from "../../shared/tracing.ts";
import { type EdgeBindings, type EdgeEnv, parseEdgeEnv } from "../env.ts";
import { RecentEntries } from "../lib/recent-entries.ts";
import { EdgeTraceExporter } from "../lib/tracing/otlp-json.ts";
import { AdaptiveConcurrencyLimit } from "./admission.ts";
import { ApiKeyVerifier } from "./api-keys.ts";
import { AuthLookupLimiter } from "./auth-lookup-limiter.ts";
import { EdgeEvents } from "./edge-events.ts";
import { ModerationClient, type Moderator } from "./moderation.ts";
import { PoolClient } from "./pool-client.ts";
import { RateLimiter } from "./rate-limiter.ts";
import { RegionAdmission } from "./region-admission.ts";
import { RequestGate } from "./request-gate.ts";
import { ResponseCache } from "./response-cache.ts";
import { spendAlertSender } from "./spend-alerts.ts";
import { SpendGuard } from "./spend-guard.ts";

/** The clients one isolate shares across requests. Handlers get them from `c.var.services`. */
export interface EdgeServices {
  config: EdgeEnv;
  /** The isolate's logger at `LOG_LEVEL`; requests log through a child on `c.var.log`. */
  logger: Logger;
  redis: Redis;
  cache: ResponseCache;
  pool: PoolClient;
  /** Events of requests answered at the edge (cache hits, fallbacks), sent on to a pool. */
  events: EdgeEvents;
  keys: ApiKeyVerifier;
  rateLimiter: RateLimiter;
  /** Budgets and token limits: reserve before forwarding, settle after. */
  spend: SpendGuard;
  /** MAX_MESSAGES, MAX_TOKENS and MAX_CONTENT_CHARS over a chat request its route has validated. */
  chatLimits: ReturnType<typeof chatRequestLimitsSchema>;
  /** MAX_MESSAGES and MAX_CONTENT_CHARS over an embeddings request its route has validated. */
  embeddingsLimits: ReturnType<typeof embeddingsLimitsSchema>;
  /** The moderation guardrail's endpoint client (null when MODERATION_URL is unset). */
  moderator?: Moderator | null;
  /** Span export (OTLP/HTTP JSON); absent or null when tracing is off. */
  tracer?: EdgeTraceExporter | null;
  /** The bound on API requests in progress (edge/middleware/admission.ts); absent: none. */
  requests?: RequestGate;
}

export type ServicesResult = { ok: true; services: EdgeServices } | { ok: false; problems: string[] };

const redisTimeoutMs = 1_000;
const built = new WeakMap<object, ServicesResult>();

/** The edge's Redis client: raw strings, no retries (deadlines decide), same-tick auto-pipelining. */
export function createEdgeRedis(url: string, token: string): Redis {
  return new Redis({
    url,
    token,
    automaticDeserialization: false,
    enableTelemetry: false,
    readYourWrites: false,
    retry: false,
    // Commands issued in the same tick share one /pipeline call.
    enableAutoPipelining: true,
    // Values come back as JSON strings, not base64 (Upstash's default, for non-UTF-8 values). Every
    // value the edge writes is a JS string, so it is valid UTF-8; decoding base64 cost ~2% of a hit.
    responseEncoding: false,
    signal: () => AbortSignal.timeout(redisTimeoutMs),
  });
}

/** The isolate's span exporter, or null when no OTLP endpoint is configured. */
function edgeTraceExporter(config: EdgeEnv): EdgeTraceExporter | null {
  const tracing = tracingConfig(config, "tiergate-edge");
  return tracing ? new EdgeTraceExporter(tracing) : null;
}

/** Builds the services once per bindings object (i.e. once per isolate), validating the config. */
export function servicesFor(bindings: EdgeBindings): ServicesResult {
  const cached = built.get(bindings);
  if (cached) return cached;
  const result = buildServices(bindings);
  built.set(bindings, result);
  return result;
}

function buildServices(bindings: EdgeBindings): ServicesResult {
  const parsed = parseEdgeEnv(bindings);
  if (!parsed.ok) return parsed;
  const config = parsed.env;
  const redis = createEdgeRedis(config.UPSTASH_REDIS_REST_URL, config.UPSTASH_REDIS_REST_TOKEN);
  // A request in progress holds one descriptor (a forward about four): twice the forward cap stays
  // within what `npm start` sizes for, and a small forward cap still leaves room for cache hits.
  const maxInProgress =
    config.EDGE_MAX_IN_PROGRESS ??
    Math.max(256, 2 * Math.max(config.EDGE_MIN_CONCURRENCY, config.EDGE_MAX_CONCURRENCY));
  const requests = new RequestGate({
    initialBound: Math.min(maxInProgress, 4 * Math.max(config.EDGE_MIN_CONCURRENCY, 32)),
    minBound: Math.min(config.EDGE_MIN_CONCURRENCY, maxInProgress),
    maxBound: maxInProgress,
    targetMs: config.EDGE_QUEUE_TARGET_MS,
  });
  const forwards = new AdaptiveConcurrencyLimit({
    initialLimit: Math.max(config.EDGE_MIN_CONCURRENCY, 32),
    minLimit: config.EDGE_MIN_CONCURRENCY,
    maxLimit: Math.max(config.EDGE_MIN_CONCURRENCY, config.EDGE_MAX_CONCURRENCY),
    congested: () => requests.congested,
  });
  const pool = new PoolClient(config.POOL_REGIONS, config.POOL_SIGNING_SECRET, {
    attemptTimeoutMs: config.POOL_ATTEMPT_TIMEOUT_MS,
    breaker: { failures: config.BREAKER_FAILURES, openMs: config.BREAKER_OPEN_MS },
    ...(config.POOL_ADMIN_SECRET
      ? { admin: { credential: config.POOL_ADMIN_CREDENTIAL, secret: config.POOL_ADMIN_SECRET } }
      : {}),
    admission: {
      tryAcquire: (arrivedAt) => {
        if (arrivedAt !== undefined) requests.observe(Date.now() - arrivedAt);
        return forwards.tryAcquire();
      },
    },
    // A new isolate starts with a generous share (a pool worker takes 256 at once by default); the
    // first load reports or refusals cut it (measured: starting at 32 it refused ~5% of an overload
    // run's forwards while the pool was nearly idle).
    regionAdmission: new RegionAdmission({
      initialLimit: 4 * Math.max(config.EDGE_MIN_CONCURRENCY, 32),
      minLimit: 1,
      maxLimit: Math.max(config.EDGE_MIN_CONCURRENCY, config.EDGE_MAX_CONCURRENCY),
    }),
  });
  return {
    ok: true,
    services: {
      config,
      logger: createLogger({ level: config.LOG_LEVEL, bindings: { service: "edge" } }),
      redis,
      cache: new ResponseCache(redis, {
        defaultTtlSeconds: config.CACHE_TTL_SECONDS,
        deadlineMs: config.CACHE_DEADLINE_MS,
        recent: new RecentEntries({
          ttlMs: config.CACHE_MEMORY_TTL_MS,
          maxEntries: config.CACHE_MEMORY_MAX_ENTRIES,
          maxChars: config.CACHE_MEMORY_MAX_CHARS,
        }),
      }),
      pool,
      events: new EdgeEvents(pool),
      keys: new ApiKeyVerifier({
        redis,
        pool,
        ttlSeconds: config.KEY_CACHE_TTL_SECONDS,
        negativeTtlSeconds: Math.min(config.KEY_NEGATIVE_CACHE_TTL_SECONDS, config.KEY_CACHE_TTL_SECONDS),
        redisDeadlineMs: config.CACHE_DEADLINE_MS,
        lookupLimiter: new AuthLookupLimiter(redis, {
          perSecond: config.AUTH_LOOKUPS_PER_IP_PER_SECOND,
          deadlineMs: config.RATE_LIMIT_DEADLINE_MS,
        }),
      }),
      rateLimiter: new RateLimiter(redis, {
        deadlineMs: config.RATE_LIMIT_DEADLINE_MS,
        sliceFraction: config.RATE_LIMIT_SLICE,
      }),
      spend: new SpendGuard(redis, {
        deadlineMs: config.BUDGET_DEADLINE_MS,
        lease: { fraction: config.BUDGET_LEASE },
        onSoftPassed: spendAlertSender(pool),
      }),
      chatLimits: chatRequestLimitsSchema({
        maxContentChars: config.MAX_CONTENT_CHARS,
        maxMessages: config.MAX_MESSAGES,
        maxTokens: config.MAX_TOKENS,
      }),
      embeddingsLimits: embeddingsLimitsSchema({
        maxInputs: config.MAX_MESSAGES,
        maxInputChars: config.MAX_CONTENT_CHARS,
      }),
      moderator: config.MODERATION_URL
        ? new ModerationClient({
            url: config.MODERATION_URL,
            apiKey: config.MODERATION_API_KEY,
            model: config.MODERATION_MODEL,
            timeoutMs: config.MODERATION_TIMEOUT_MS,
          })
        : null,
      tracer: edgeTraceExporter(config),
      requests,
    },
  };
}
