import { createClickHouse } from "../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../workers/clickhouse/migrate.ts";
import { migratePostgres } from "../../workers/db/migrate.ts";
import { ensureTopics } from "../../workers/events/topics.ts";
import { localPoolEnv } from "./local-env.ts";

/** Applies every schema of the local stack: Postgres (drizzle), ClickHouse (versioned SQL), Kafka topics. */
export async function migrateAll(): Promise<void> {
  const env = localPoolEnv();
  const clickhouse = createClickHouse({
    url: env.CLICKHOUSE_URL,
    username: "default",
    password: "",
    database: "default",
  });
  try {
    await Promise.all([
      migratePostgres({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY }),
      migrateClickHouse(clickhouse, env.CLICKHOUSE_DATABASE),
      ensureTopics(env.KAFKA_BROKERS.split(",")),
    ]);
  } finally {
    await clickhouse.close();
  }
}
