import { randomUUID } from "node:crypto";
import { afterAll, beforeAll } from "vitest";
import type { RequestEvent } from "../../../shared/events.ts";
import { type ClickHouse, createClickHouse } from "../../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { clickhouseService, localClickHouse } from "../../stack/services/clickhouse.ts";

/** A client on the local server, connected to `database` (which must exist before it is used). */
export function localClient(database: string, requestTimeoutMs?: number): ClickHouse {
  return createClickHouse({ ...localClickHouse, database, requestTimeoutMs });
}

/** A fresh database name per test file, so files never see each other's rows. */
export function scratchDatabase(prefix: string): string {
  return `${prefix}_${randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/** Starts the local server when it is not up (the integration global setup normally has). */
export async function ensureClickHouse(): Promise<void> {
  await clickhouseService.install();
  await clickhouseService.start();
}

/** Starts the local server if needed and applies every migration to `database`, creating it. */
export async function migrateScratchDatabase(database: string): Promise<void> {
  await ensureClickHouse();
  const admin = localClient("default");
  try {
    await migrateClickHouse(admin, database);
  } finally {
    await admin.close();
  }
}

/**
 * For a test file or describe block: `database` migrated before its tests; afterwards `client` (a client
 * on that database) closed and the database dropped.
 */
export function useScratchDatabase(database: string, client: ClickHouse): void {
  beforeAll(async () => {
    await migrateScratchDatabase(database);
  });
  afterAll(async () => {
    await client.close();
    await dropDatabase(database);
  });
}

export async function dropDatabase(database: string): Promise<void> {
  const admin = localClient("default");
  try {
    await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: database });
  } finally {
    await admin.close();
  }
}

/** A valid RequestEvent with overrides; `ts` defaults to now so the 90-day TTL keeps it. */
export function sampleEvent(overrides: Partial<RequestEvent> = {}): RequestEvent {
  return {
    event_id: randomUUID(),
    ts: Date.now(),
    request_id: `req-${randomUUID()}`,
    tenant: "acme",
    user_id: "user-1",
    route: "/v1/chat/completions",
    tier: "small",
    model: "smollm2-135m",
    model_version: "q4_1",
    provider: "local",
    status: 200,
    cache: "MISS",
    fallback_reason: "",
    queue_ms: 1,
    ttft_ms: 20,
    latency_ms: 100,
    prompt_tokens: 12,
    completion_tokens: 34,
    ...overrides,
  };
}
