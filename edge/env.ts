import { z } from "zod";
import { formatIssues, logLevel, nonNegativeInt, positiveInt } from "../shared/env.ts";
import { tracingEnvShape } from "../shared/tracing.ts";

/** `name=url` pairs, comma-separated: the regional pools the edge may forward to. */
const regions = z
  .string()
  .min(1)
  .transform((raw, ctx) => {
    const out: { name: string; url: string }[] = [];
    for (const entry of raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const [name, url] = entry.includes("=") ? entry.split("=", 2) : ["default", entry];
      if (!name || !url || !URL.canParse(url)) {
        ctx.addIssue({ code: "custom", message: `bad region entry "${entry}" (want name=url)` });
        return z.NEVER;
      }
      out.push({ name, url: url.replace(/\/$/, "") });
    }
    return out;
  });

/** The edge's configuration, validated once per isolate. A bad one makes every request a 500 BAD_ENVIRONMENT. */
export const edgeEnvSchema = z.object({
  UPSTASH_REDIS_REST_URL: z.url(),
  UPSTASH_REDIS_REST_TOKEN: z.string().min(1),
  POOL_REGIONS: regions,
  /** The traffic signing secret (HMAC-SHA256); the pool also accepts its previous one during a rotation. */
  POOL_SIGNING_SECRET: z.string().min(32),
  /**
   * The admin credential the cron drift trigger signs with (a pair in the pool's POOL_ADMIN_SECRETS).
   * Unset: the cron trigger does nothing but log.
   */
  POOL_ADMIN_SECRET: z.string().min(32).optional(),
  POOL_ADMIN_CREDENTIAL: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/)
    .default("edge-cron"),
  POOL_TIMEOUT_MS: positiveInt(30_000),
  MAX_BODY_BYTES: positiveInt(2 * 1024 * 1024),
  MAX_CONTENT_CHARS: positiveInt(100_000),
  MAX_MESSAGES: positiveInt(256),
  MAX_TOKENS: positiveInt(4_096),
  CACHE_TTL_SECONDS: positiveInt(3_600),
  KEY_CACHE_TTL_SECONDS: positiveInt(30),
  /** Unknown keys are cached this long (a key created right after a failed try works after it). */
  KEY_NEGATIVE_CACHE_TTL_SECONDS: positiveInt(5),
  /** Key lookups missing both key caches (each a Postgres query) one client IP may cause per second. */
  AUTH_LOOKUPS_PER_IP_PER_SECOND: positiveInt(20),
  /**
   * The response cache's memory tier (edge/lib/recent-entries.ts): entries this isolate read or
   * wrote are served from memory this long, so an entry can outlive its Redis copy (expiry, another
   * isolate's refresh) by at most this. 0 turns the tier off.
   */
  CACHE_MEMORY_TTL_MS: nonNegativeInt(1_000),
  CACHE_MEMORY_MAX_ENTRIES: positiveInt(1_024),
  /** Total characters the memory tier may hold (a UTF-16 character is 2 bytes of isolate memory). */
  CACHE_MEMORY_MAX_CHARS: positiveInt(4 * 1024 * 1024),
  /** Redis reads and writes of the response cache give up after this long; the request proceeds uncached. */
  CACHE_DEADLINE_MS: positiveInt(10),
  /** The rate-limit check gives up after this long and lets the request through (fails open). */
  RATE_LIMIT_DEADLINE_MS: positiveInt(25),
  /**
   * The share of a key's request limit an isolate reserves from Redis at once and then decides locally
   * (see edge/services/rate-limiter.ts); keys in `exact` mode ask Redis for every request.
   */
  RATE_LIMIT_SLICE: z.coerce.number().gt(0).max(1).default(0.05),
  /** A budget or token-limit reservation Redis does not answer within this long lets the request through unmetered. */
  BUDGET_DEADLINE_MS: positiveInt(500),
  /**
   * The share of a budget or token limit an isolate leases from Redis at once and then admits against
   * locally (0: every metered request is reserved in Redis); see edge/services/spend-lease.ts.
   */
  BUDGET_LEASE: z.coerce.number().min(0).max(0.25).default(0.05),
  /** The completion tokens a budget reserves for a request without max_tokens (it can overshoot by the rest). */
  BUDGET_DEFAULT_RESERVE_TOKENS: positiveInt(1_024),
  /** Requests per minute for keys without their own limit. */
  RATE_LIMIT_PER_MINUTE: positiveInt(600),
  /** One region attempt waits this long for response headers before it counts as a timeout. */
  POOL_ATTEMPT_TIMEOUT_MS: positiveInt(15_000),
  /** Consecutive failures that open a region's circuit, and how long it stays open. */
  BREAKER_FAILURES: positiveInt(5),
  BREAKER_OPEN_MS: positiveInt(5_000),
  /**
   * Admission control (edge/services/admission.ts): the adaptive limit on this isolate's concurrent
   * forwards stays between these; past it a forward is refused with 503 + Retry-After. Keep the max
   * well below the process's file-descriptor limit (`npm start` sets it from `ulimit -n`).
   */
  EDGE_MAX_CONCURRENCY: positiveInt(1_000),
  EDGE_MIN_CONCURRENCY: positiveInt(32),
  /**
   * How long a request may take from entering the isolate to its forward (ms) before the isolate counts
   * as queueing and cuts its bound on requests in progress (edge/services/admission.ts RequestGate);
   * past that bound a request is refused as it enters, before any parsing.
   */
  EDGE_QUEUE_TARGET_MS: positiveInt(50),
  /** The most API requests in progress an isolate ever allows (default: twice EDGE_MAX_CONCURRENCY, at least 256). */
  EDGE_MAX_IN_PROGRESS: z.coerce.number().int().positive().optional(),
  /** Status of a deterministic fallback answer: 503 (default) or 200. */
  FALLBACK_STATUS: z.coerce
    .string()
    .pipe(z.enum(["200", "503"]))
    .default("503")
    .transform((v): 200 | 503 => (v === "200" ? 200 : 503)),
  /** Lowest level the edge logs: debug, info (default), warn, error. */
  LOG_LEVEL: logLevel(),
  /** The moderation guardrail's endpoint (OpenAI's POST /v1/moderations shape); unset: none. */
  MODERATION_URL: z.url().optional(),
  MODERATION_API_KEY: z.string().min(1).optional(),
  MODERATION_MODEL: z.string().min(1).default("omni-moderation-latest"),
  /** A moderation call gives up after this long; the policy then fails open or closed. */
  MODERATION_TIMEOUT_MS: positiveInt(2_000),
  FALLBACK_MESSAGE: z
    .string()
    .min(1)
    .default("The service is temporarily unable to answer. Please try again shortly."),
  /** OpenTelemetry traces over OTLP/HTTP (OTEL_EXPORTER_OTLP_*, OTEL_TRACES_SAMPLER_ARG): see shared/tracing.ts. */
  ...tracingEnvShape,
});

export type EdgeEnv = z.infer<typeof edgeEnvSchema>;

/** What the runtime hands us: Workers bindings, or Deno's environment. Only strings matter here. */
export type EdgeBindings = Record<string, unknown>;

export function parseEdgeEnv(
  bindings: EdgeBindings,
): { ok: true; env: EdgeEnv } | { ok: false; problems: string[] } {
  const parsed = edgeEnvSchema.safeParse(bindings);
  if (parsed.success) return { ok: true, env: parsed.data };
  return { ok: false, problems: formatIssues(parsed.error) };
}
