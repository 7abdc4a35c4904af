import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "../../../workers/pool/env.ts";

const required = {
  POOL_SIGNING_SECRET: "x".repeat(32),
  DATABASE_URL: "postgresql://u:p@127.0.0.1:5432/db",
  CLICKHOUSE_URL: "http://127.0.0.1:8123",
  KAFKA_BROKERS: "127.0.0.1:9092",
};

describe("worker env", () => {
  it("batches request events for 100 ms unless EVENT_LINGER_MS says otherwise", () => {
    expect(loadWorkerEnv(required).EVENT_LINGER_MS).toBe(100);
    expect(loadWorkerEnv({ ...required, EVENT_LINGER_MS: "20" }).EVENT_LINGER_MS).toBe(20);
  });
});
