import { createLogger } from "../../shared/logger.ts";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { startIngest } from "../events/consumer.ts";
import { loadWorkerEnv } from "./env.ts";

/**
 * One of the pool's ingest processes: request events from Kafka into ClickHouse, at least once,
 * deduplicated there. Several of them share the partitions as one consumer group.
 */
const config = loadWorkerEnv();
const log = createLogger({ bindings: { service: "pool", role: "ingest", pid: process.pid } });
const clickhouse = createClickHouse(clickhouseConfig(config));
let lastError = "";
const ingest = startIngest({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-ingest`,
  clickhouse,
  logger: log,
  onError(error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== lastError) log.warn("ingest failure; retrying", { error });
    lastError = message;
  },
});
log.info("ingest started", { kafka: config.KAFKA_BROKERS.join(","), clickhouse: config.CLICKHOUSE_URL });

/** The counters, every minute they changed (inserted, dead-lettered, retries). */
let lastStats = "";
const statsTimer = setInterval(() => {
  const stats = JSON.stringify(ingest.stats());
  if (stats !== lastStats) log.info("ingest stats", { ...ingest.stats() });
  lastStats = stats;
}, 60_000);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  clearInterval(statsTimer);
  log.info("finishing the batch in hand", { signal });
  await ingest.stop();
  await clickhouse.close();
  log.info("ingest stopped", { ...ingest.stats() });
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
