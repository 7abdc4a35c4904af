/**
 * One ingest process for tests: `bun ingest-process.ts <topic> <database> <group>`. Like the pool's
 * ingest process (workers/pool/ingest.ts), on a scratch topic and database; small batches so that a
 * kill lands between an insert and its commit.
 */
import { startIngest } from "../../../workers/events/consumer.ts";
import { localKafkaBrokers } from "../../stack/services/kafka.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";

const [topic = "", database = "", groupId = ""] = process.argv.slice(2);
const clickhouse = localClient(database);
const ingest = startIngest({
  brokers: localKafkaBrokers,
  clickhouse,
  topic,
  groupId,
  clientId: `test-ingest-${process.pid}`,
  maxBatchEvents: 2_000,
  maxBatchWaitMs: 100,
});
process.on("SIGTERM", () => {
  void ingest
    .stop()
    .then(() => clickhouse.close())
    .then(() => process.exit(0));
});
