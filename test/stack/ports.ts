/**
 * Loopback ports of the local stack. docker-compose.yml publishes the same ones.
 * Each can be moved with an environment variable of the same name.
 */
function port(name: string, fallback: number): number {
  const raw = process.env[name];
  return raw ? Number.parseInt(raw, 10) : fallback;
}

export const ports = {
  redis: port("TIERGATE_REDIS_PORT", 6379),
  upstashBridge: port("TIERGATE_UPSTASH_PORT", 8079),
  postgres: port("TIERGATE_PG_PORT", 5432),
  neonProxy: port("TIERGATE_NEON_PROXY_PORT", 4444),
  clickhouse: port("TIERGATE_CLICKHOUSE_PORT", 8123),
  kafka: port("TIERGATE_KAFKA_PORT", 9092),
  kafkaController: port("TIERGATE_KAFKA_CONTROLLER_PORT", 9093),
  modelServer: port("TIERGATE_MODEL_PORT", 8000),
  pool: port("TIERGATE_POOL_PORT", 8080),
  edge: port("TIERGATE_EDGE_PORT", 8787),
  /** Jaeger (the trace collector): OTLP/HTTP in, its query API (HTTP and gRPC) and health check. */
  otlpHttp: port("TIERGATE_OTLP_HTTP_PORT", 4318),
  jaegerQuery: port("TIERGATE_JAEGER_QUERY_PORT", 16686),
  jaegerQueryGrpc: port("TIERGATE_JAEGER_QUERY_GRPC_PORT", 16685),
  jaegerHealth: port("TIERGATE_JAEGER_HEALTH_PORT", 13133),
  /** The edge supervisor's loopback /metrics (restarts, cron runs, fd limit). */
  edgeSupervisor: port("TIERGATE_EDGE_SUPERVISOR_PORT", 8789),
} as const;

export const host = "127.0.0.1";

/** Local development secrets. Production gets its own through wrangler secrets / env. */
export const localSecrets = {
  upstashToken: "tiergate-local-upstash-token",
  postgresUser: "tiergate",
  postgresPassword: "tiergate",
  postgresDb: "tiergate",
  poolSigningSecret: "tiergate-local-pool-signing-secret-0123456789",
  /** Admin credentials (name → secret): the edge's cron trigger, the Bun drift scheduler, operators. */
  adminSecrets: {
    "edge-cron": "tiergate-local-admin-secret-edge-cron-0123456789",
    scheduler: "tiergate-local-admin-secret-scheduler-0123456789",
    ops: "tiergate-local-admin-secret-ops-0123456789abcdef",
  },
} as const;
