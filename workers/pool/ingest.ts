import { createClickHouse } from "../clickhouse/client.ts";
import { startIngest } from "../events/consumer.ts";
import { loadWorkerEnv } from "./env.ts";

/** The pool's ingest process: request events from Kafka into ClickHouse, at least once, deduplicated there. */
const config = loadWorkerEnv();
const clickhouse = createClickHouse({
  url: config.CLICKHOUSE_URL,
  username: config.CLICKHOUSE_USER,
  password: config.CLICKHOUSE_PASSWORD,
  database: config.CLICKHOUSE_DATABASE,
});
let lastError = "";
const ingest = startIngest({
  brokers: config.KAFKA_BROKERS,
  clientId: `${config.KAFKA_CLIENT_ID}-ingest`,
  clickhouse,
  onError(error: unknown) {
    const message = error instanceof Error ? error.message : String(error);
    if (message !== lastError) console.warn(`ingest: ${message} (retrying)`);
    lastError = message;
  },
});
console.log(
  `tiergate ingest ${process.pid}: Kafka ${config.KAFKA_BROKERS.join(",")} → ClickHouse ${config.CLICKHOUSE_URL}`,
);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`ingest ${process.pid}: ${signal}, finishing the batch in hand`);
  await ingest.stop();
  await clickhouse.close();
  console.log(`ingest ${process.pid}: stopped; ${JSON.stringify(ingest.stats())}`);
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
