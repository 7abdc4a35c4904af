import { describe, expect, it } from "vitest";
import { loadWorkerEnv, workerEnvSchema } from "../../../workers/pool/env.ts";

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

describe("worker env: signing and admin credentials", () => {
  it("parses admin credentials as name=secret pairs and refuses weak or reserved ones", () => {
    const env = loadWorkerEnv({
      ...required,
      POOL_ADMIN_SECRETS: `ops=${"a".repeat(32)}, cron=${"b".repeat(40)}`,
    });
    expect([...env.POOL_ADMIN_SECRETS]).toEqual([
      ["ops", "a".repeat(32)],
      ["cron", "b".repeat(40)],
    ]);
    expect(loadWorkerEnv(required).POOL_ADMIN_SECRETS.size).toBe(0);
    for (const bad of [`ops=short`, `edge=${"a".repeat(32)}`, `=${"a".repeat(32)}`, "ops"]) {
      expect(workerEnvSchema.safeParse({ ...required, POOL_ADMIN_SECRETS: bad }).success, bad).toBe(false);
    }
    expect(workerEnvSchema.safeParse({ ...required, POOL_SIGNING_SECRET_PREVIOUS: "short" }).success).toBe(
      false,
    );
    expect(workerEnvSchema.safeParse({ ...required, REDIS_URL: "http://127.0.0.1:6379" }).success).toBe(
      false,
    );
  });
});
