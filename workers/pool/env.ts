import { z } from "zod";
import { formatIssues, logLevel, positiveInt } from "../../shared/env.ts";
import { createLogger, type Logger } from "../../shared/logger.ts";
import { clickhouseEnvShape } from "../clickhouse/config.ts";
import { driftEnvShape } from "../drift/env.ts";
import { routerEnvShape } from "../router/env.ts";

/** Configuration of a Bun worker in the regional pool, validated once at boot. */
export const workerEnvSchema = z.object({
  POOL_HOST: z.string().default("127.0.0.1"),
  POOL_PORT: positiveInt(8080),
  POOL_PROCESSES: positiveInt(2),
  POOL_REGION: z.string().default("local"),
  /** Shared secret the edge signs pool calls with (HMAC-SHA256). */
  POOL_SIGNING_SECRET: z.string().min(32),
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
   * Bearer token for GET /dashboard (also accepted as ?token=). Unset: the dashboard answers only
   * loopback clients. It is read-only, but shows every tenant's traffic.
   */
  DASHBOARD_TOKEN: z.string().min(16).optional(),
  /**
   * How long a request event waits in memory for more before its batch goes to Kafka. Each produce
   * request has a fixed CPU cost, so longer batches are cheaper per event; a crash loses at most this
   * window (SIGTERM flushes it).
   */
  EVENT_LINGER_MS: positiveInt(100),
  /** Where events go while Kafka is unreachable. */
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
  /** Collections up to this many chunks are searched exactly; larger ones through the HNSW index. */
  RAG_EXACT_SEARCH_MAX_CHUNKS: positiveInt(20_000),
  /** Drift detection and automatic rollback: see workers/drift/env.ts. */
  ...driftEnvShape,
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
