import { sql } from "drizzle-orm";
import type { RequestEvent } from "../../shared/events.ts";
import type { Logger } from "../../shared/logger.ts";
import { type ClickHouse, createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { createDatabase, type DatabaseHandle, withPostgres } from "../db/client.ts";
import { type KeyStore, PostgresKeyStore } from "../db/key-store.ts";
import { postgresRequestOwnership, type RequestOwnership } from "../db/request-ownership.ts";
import { RequestRowWriter } from "../db/request-rows.ts";
import { FeedbackPublisher } from "../drift/feedback-publisher.ts";
import { createEventProducer } from "../events/producer.ts";
import { cached, latestDriftScores } from "../events/stats.ts";
import type { RequestEventPublisher } from "../events/types.ts";
import { PayloadLogService } from "../payload-log/service.ts";
import { createRoutingService, type RoutingService } from "../registry/routing.ts";
import { PostgresResponseStore, type ResponseStore } from "../responses/store.ts";
import { routerGenerator } from "../retrieval/router-generator.ts";
import { createRetrievalService, type RetrievalService } from "../retrieval/service.ts";
import { createSemanticCache } from "../semantic-cache/create.ts";
import type { SemanticCache } from "../semantic-cache/service.ts";
import { createSpendService, type SpendService } from "../spend/service.ts";
import { poolLogger, type WorkerEnv } from "./env.ts";
import { poolSiblings } from "./metrics/pool-aggregate.ts";
import { PoolMetrics } from "./metrics/pool-metrics.ts";
import { InFlight } from "./middleware/backpressure.ts";
import type { NonceStore } from "./nonce-store.ts";
import { RedisNonceStore } from "./redis-nonce-store.ts";

/** Who sent a request: its key (null when unknown) and the client's own request id, if any. */
export interface RequestOrigin {
  keyId: string | null;
  clientRequestId?: string | undefined;
}

/** The clients one worker process shares across requests, built once at boot. */
export interface PoolServices {
  config: WorkerEnv;
  /** The worker's logger; a call's lines go through `c.var.log`, a child with its request id and tenant. */
  logger: Logger;
  database: DatabaseHandle;
  clickhouse: ClickHouse;
  events: RequestEventPublisher;
  /** User feedback to Kafka `tiergate.feedback` (the drift job's accuracy input), acknowledged before the 202. */
  feedback: FeedbackPublisher;
  metrics: PoolMetrics;
  keys: KeyStore;
  /** Which tenant made a request (feedback is accepted only from it). */
  requestOwnership: RequestOwnership;
  inFlight: InFlight;
  /** Nonces of signed calls, in the region's Redis (shared by every worker, kept across restarts). */
  nonces: NonceStore;
  /** The tier router and the registry it follows. */
  routing: RoutingService;
  /** RAG: hybrid retrieval, abstention rules and generation. */
  retrieval: RetrievalService;
  /** Opt-in semantic cache of chat answers (ClickHouse + the embeddings tier). */
  semanticCache: SemanticCache;
  /** Prompts and answers of keys that enable payload logging (ClickHouse `payload_logs`). */
  payloadLog: PayloadLogService;
  /** Costs, prices, budgets and their alerts. */
  spend: SpendService;
  /** Responses API answers stored with `store: true` (Postgres). */
  responseStore: ResponseStore;
  pingPostgres(): Promise<boolean>;
  /**
   * Queues the request row; rows are written to Postgres in batches (RequestRowWriter). A failed write
   * is logged and counted (`tiergate_request_rows_dropped`), never surfaced.
   */
  recordRequest(event: RequestEvent, origin: RequestOrigin): void;
  close(): Promise<void>;
}

export function buildPoolServices(
  config: WorkerEnv,
  logger: Logger = poolLogger(config, "worker"),
): PoolServices {
  const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
  const clickhouse = createClickHouse(clickhouseConfig(config));
  const requestRows = new RequestRowWriter(database.db, {
    onDrop: (rows, reason) => logger.warn("request rows not written", { rows, error: reason }),
  });
  let metrics: PoolMetrics | undefined;
  const events = createEventProducer({
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID,
    spoolDir: config.SPOOL_DIR,
    lingerMs: config.EVENT_LINGER_MS,
    onPublish: (event) => metrics?.recordEvent(event),
    logger,
  });
  const inFlight = new InFlight();
  metrics = new PoolMetrics({
    eventStats: () => events.stats(),
    inFlight: () => inFlight.count,
    requestRowStats: () => requestRows.stats(),
    driftScores: cached(() => latestDriftScores(clickhouse), 30_000, new Map<string, number>()),
    defaultLabels: { worker: String(config.POOL_WORKER_INDEX ?? process.pid) },
    breakers: () => routing.router.balancer.breakers(),
    tierBudgetsMs: config.TIER_BUDGETS_MS,
    driftThreshold: config.DRIFT_SCORE_THRESHOLD,
    pool: poolSiblings(config),
  });
  const routing = createRoutingService(config, database.db, logger);
  const nonces = new RedisNonceStore({
    url: config.REDIS_URL,
    timeoutMs: config.NONCE_STORE_TIMEOUT_MS,
    prefix: `tg:nonce:${config.POOL_REGION}:`,
    logger,
  });
  const semanticCache = createSemanticCache(config, clickhouse, logger);
  const payloadLog = new PayloadLogService(clickhouse, logger);
  const spend = createSpendService({
    db: database.db,
    logger,
    refreshMs: config.PRICE_REFRESH_MS,
    webhookUrl: config.BUDGET_WEBHOOK_URL,
    webhookTimeoutMs: config.BUDGET_WEBHOOK_TIMEOUT_MS,
  });
  const feedback = new FeedbackPublisher({
    brokers: config.KAFKA_BROKERS,
    clientId: `${config.KAFKA_CLIENT_ID}-feedback`,
  });
  return {
    config,
    logger,
    database,
    clickhouse,
    events,
    feedback,
    metrics,
    keys: new PostgresKeyStore(database.db),
    responseStore: new PostgresResponseStore(
      database.db,
      config.RESPONSES_RETENTION_DAYS * 86_400_000,
      (error) => logger.warn("expired responses sweep failed", { error }),
    ),
    requestOwnership: postgresRequestOwnership(database.db),
    inFlight,
    nonces,
    routing,
    spend,
    retrieval: createRetrievalService(config, clickhouse, {
      generatorFor: (allowedModels) =>
        routerGenerator(routing.router, config.MODEL_TIMEOUT_MS, allowedModels),
    }),
    semanticCache,
    payloadLog,
    pingPostgres: () =>
      withPostgres(() => database.db.execute(sql`select 1`)).then(
        () => true,
        () => false,
      ),
    recordRequest(event, origin) {
      requestRows.add({
        requestId: event.request_id,
        tenantId: event.tenant,
        keyId: origin.keyId,
        clientRequestId: origin.clientRequestId ?? null,
        model: event.model,
        tier: event.tier,
        status: event.status,
        cache: event.cache,
        latencyMs: event.latency_ms,
      });
    },
    async close() {
      routing.close();
      nonces.close();
      spend.close();
      // Buffered request rows are written before the database closes.
      await Promise.allSettled([
        events.close(),
        feedback.close(),
        requestRows.close(),
        semanticCache.close(),
        payloadLog.close(),
      ]);
      await Promise.allSettled([database.close(), clickhouse.close()]);
    },
  };
}
