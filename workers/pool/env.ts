import { z } from "zod";
import { formatIssues, logLevel, positiveInt } from "../../shared/env.ts";
import { createLogger, type Logger } from "../../shared/logger.ts";
import { tracingEnvShape } from "../../shared/tracing.ts";
import { clickhouseEnvShape } from "../clickhouse/config.ts";
import { driftEnvShape } from "../drift/env.ts";
import { routerEnvShape } from "../router/env.ts";
import { semanticCacheEnvShape } from "../semantic-cache/env.ts";
import { spendEnvShape } from "../spend/env.ts";

/** `name=secret,…` admin credentials: names as in a signature's `Credential=`, secrets ≥ 32 characters. */
const adminSecrets = z
  .string()
  .default("")
  .transform((raw, ctx) => {
    const out = new Map<string, string>();
    for (const entry of raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = entry.indexOf("=");
      const name = entry.slice(0, at);
      const secret = entry.slice(at + 1);
      if (at < 1 || !/^[A-Za-z0-9_.:-]{1,64}$/.test(name) || name === "edge" || secret.length < 32) {
        ctx.addIssue({
          code: "custom",
          message: "want name=secret pairs (secret ≥ 32 chars, name not 'edge')",
        });
        return z.NEVER;
      }
      out.set(name, secret);
    }
    return out;
  });

/** Configuration of a Bun worker in the regional pool, validated once at boot. */
export const workerEnvSchema = z.object({
  POOL_HOST: z.string().default("127.0.0.1"),
  POOL_PORT: positiveInt(8080),
  POOL_PROCESSES: positiveInt(2),
  /**
   * Ingest processes the supervisor runs, all in one Kafka consumer group. More than the partition count
   * of `tiergate.request-events` (6) leaves the extra ones idle.
   */
  INGEST_PROCESSES: positiveInt(1),
  POOL_REGION: z.string().default("local"),
  /** How long a Responses API answer stored with `store: true` is kept (GET, previous_response_id). */
  RESPONSES_RETENTION_DAYS: positiveInt(30),
  /**
   * Set by the supervisor: this worker's index (1..POOL_PROCESSES) and the private directory where every
   * worker serves its metrics on a Unix socket, so one scrape of /metrics returns the whole pool.
   */
  POOL_WORKER_INDEX: z.coerce.number().int().positive().optional(),
  POOL_METRICS_SOCKET_DIR: z.string().min(1).optional(),
  /** How long a /metrics scrape waits for a sibling worker's registry before leaving it out. */
  POOL_METRICS_SIBLING_TIMEOUT_MS: positiveInt(500),
  /** Shared secret the edge signs pool calls with (HMAC-SHA256). */
  POOL_SIGNING_SECRET: z.string().min(32),
  /** The secret being rotated out: accepted beside POOL_SIGNING_SECRET until every edge signs with the new one. */
  POOL_SIGNING_SECRET_PREVIOUS: z.string().min(32).optional(),
  /**
   * Admin credentials (`name=secret,…`) for registry and drift operations; the name is the audit actor.
   * Unset: no admin operation is possible over HTTP.
   */
  POOL_ADMIN_SECRETS: adminSecrets,
  /** The region's Redis: signed calls' nonces are claimed there, shared by every worker and kept across restarts. */
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//)
    .default("redis://127.0.0.1:6379"),
  /** A nonce claim that takes longer fails: the call gets 503 and the edge tries another region. */
  NONCE_STORE_TIMEOUT_MS: positiveInt(250),
  /** Signed calls' bodies past this are refused (413) before they are read. */
  MAX_BODY_BYTES: positiveInt(4 * 1024 * 1024),
  /** Postgres URL; reached through @neondatabase/serverless. */
  DATABASE_URL: z.url(),
  /** Local development only: host:port/path of a WebSocket-to-TCP proxy in front of Postgres. */
  NEON_WS_PROXY: z.string().optional(),
  /** CLICKHOUSE_URL (required), _USER, _PASSWORD, _DATABASE: see workers/clickhouse/config.ts. */
  ...clickhouseEnvShape,
  /** Comma-separated host:port list. */
  KAFKA_BROKERS: z.string().transform((s) =>
    s
      .split(",")
      .map((b) => b.trim())
      .filter(Boolean),
  ),
  KAFKA_CLIENT_ID: z.string().default("tiergate-pool"),
  /**
   * Token for /dashboard: as `Authorization: Bearer`, or typed into the login form (which sets a
   * session cookie). Unset: nobody gets in (unless DASHBOARD_ALLOW_LOOPBACK). It is read-only, but
   * shows every tenant's traffic.
   */
  DASHBOARD_TOKEN: z.string().min(16).optional(),
  /**
   * "true": loopback clients see the dashboard without a token. Off by default, because a reverse
   * proxy on the same host makes every client loopback.
   */
  DASHBOARD_ALLOW_LOOPBACK: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
  /**
   * How long a request event waits in memory for more before its batch goes to Kafka. Each produce
   * request has a fixed CPU cost, so longer batches are cheaper per event. SIGTERM flushes the buffer; a
   * hard crash loses it (README, "What a crash can lose").
   */
  EVENT_LINGER_MS: positiveInt(100),
  /**
   * Where events go while Kafka is unreachable: each worker claims `worker-<n>` under it (locked by pid)
   * and replays the directories of workers that died.
   */
  SPOOL_DIR: z.string().default(".stack/spool"),
  MAX_IN_FLIGHT: positiveInt(256),
  /** Lowest level the pool logs: debug, info (default), warn, error. */
  LOG_LEVEL: logLevel(),
  SHUTDOWN_GRACE_MS: positiveInt(10_000),
  /** Tiered routing and the model registry: see workers/router/env.ts. */
  ...routerEnvShape,
  /** RAG: the embeddings tier, OpenAI-compatible. Embedding versions are `<model>@<revision>`. */
  EMBEDDINGS_BASE_URL: z.url().default("http://127.0.0.1:8000/v1"),
  EMBEDDINGS_API_KEY: z.string().default("tiergate-local"),
  EMBEDDINGS_MODEL: z.string().min(1).default("tiergate-embed"),
  EMBEDDINGS_MODEL_REVISION: z.string().min(1).default("1"),
  EMBEDDINGS_DIMENSIONS: positiveInt(384),
  /** RAG: the generation tier, OpenAI-compatible (to be replaced by the router's generation tier). */
  GENERATION_BASE_URL: z.url().default("http://127.0.0.1:8000/v1"),
  GENERATION_API_KEY: z.string().default("tiergate-local"),
  GENERATION_MODEL: z.string().min(1).default("tiergate-large"),
  MODEL_TIMEOUT_MS: positiveInt(30_000),
  /** Relevance threshold of collections that set none, in [0, 1]. */
  RAG_DEFAULT_THRESHOLD: z.coerce.number().min(0).max(1).default(0.45),
  RAG_TOP_K: positiveInt(5),
  RAG_MAX_TOKENS: positiveInt(256),
  /** Answer gate: share of the question's terms the passages the answer draws on must hold, in [0, 1]. */
  RAG_ANSWER_MIN_COVERAGE: z.coerce.number().min(0).max(1).default(0.6),
  /** Collections up to this many chunks are searched exactly; larger ones through the HNSW index. */
  RAG_EXACT_SEARCH_MAX_CHUNKS: positiveInt(20_000),
  /** Drift detection and automatic rollback: see workers/drift/env.ts. */
  ...driftEnvShape,
  /** OpenTelemetry traces over OTLP/HTTP (OTEL_EXPORTER_OTLP_*, OTEL_TRACES_SAMPLER_ARG): see shared/tracing.ts. */
  ...tracingEnvShape,
  /** Semantic cache and payload logs: see workers/semantic-cache/env.ts. */
  ...semanticCacheEnvShape,
  ...spendEnvShape,
});

export type WorkerEnv = z.infer<typeof workerEnvSchema>;

/** The pool's logger before its config is validated (level `info`); then `poolLogger(config)`. */
export const bootLogger: Logger = createLogger({ bindings: { service: "pool" } });

/** The logger of one pool process (`role`: worker, ingest, supervisor) at `LOG_LEVEL`, with its pid. */
export function poolLogger(config: Pick<WorkerEnv, "LOG_LEVEL">, role: string): Logger {
  return createLogger({ level: config.LOG_LEVEL, bindings: { service: "pool", role, pid: process.pid } });
}

/** Parses the environment; on failure logs every problem and exits, so a bad config stops the worker at boot. */
export function loadWorkerEnv(source: Record<string, string | undefined> = process.env): WorkerEnv {
  const parsed = workerEnvSchema.safeParse(source);
  if (parsed.success) return parsed.data;
  bootLogger.error("bad configuration", { problems: formatIssues(parsed.error) });
  process.exit(78);
}
