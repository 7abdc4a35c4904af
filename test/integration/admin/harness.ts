import { afterAll, beforeAll } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import type { AdminRole } from "../../../shared/admin/rbac.ts";
import { createAdminKey } from "../../../workers/admin/admin-keys.ts";
import type { Actor } from "../../../workers/admin/audit.ts";
import { createKey } from "../../../workers/admin/keys.ts";
import { createTenant } from "../../../workers/admin/tenants.ts";
import { createDatabase, type DatabaseHandle } from "../../../workers/db/client.ts";
import { localEdgeEnv } from "../../stack/local-env.ts";
import { dropDatabase, migrateScratchDatabase, scratchDatabase } from "../clickhouse/local-clickhouse.ts";
import { ensureLocalDatabase, localDbConfig, uniqueId } from "../db/local-db.ts";
import { PoolUnderTest } from "../events/pool-under-test.ts";

/** The actor of fixtures the tests create straight through the service layer. */
export const testActor: Actor = { actor: "test:admin-harness", actorRole: "cli" };

/** An answer of the in-process edge: status and parsed JSON body. */
export interface Answer {
  status: number;
  body: Record<string, unknown> & { error?: { code: string; request_id: string; message: string } };
  headers: Headers;
}

/**
 * A pool of this checkout on a private port (its own ClickHouse database) and the edge app in-process
 * in front of it, on the stack's Redis and Postgres: the admin API end to end.
 */
export class AdminStack {
  readonly pool: PoolUnderTest;
  readonly clickhouseDatabase = scratchDatabase("admin_test");
  #db: DatabaseHandle | undefined;
  readonly edge = createEdgeApp();
  readonly bindings: Record<string, string>;

  constructor(port: number, name: string, poolEnv: Record<string, string> = {}) {
    this.pool = new PoolUnderTest(port, name, { CLICKHOUSE_DATABASE: this.clickhouseDatabase, ...poolEnv });
    // Every admin call is a lookup past the key caches: the per-IP lookup limit is lifted for the matrix.
    this.bindings = {
      ...localEdgeEnv(),
      POOL_REGIONS: `local=${this.pool.url}`,
      AUTH_LOOKUPS_PER_IP_PER_SECOND: "100000",
    };
  }

  get db() {
    if (!this.#db) throw new Error("start() first");
    return this.#db.db;
  }

  async start(): Promise<void> {
    await ensureLocalDatabase();
    await migrateScratchDatabase(this.clickhouseDatabase);
    this.#db = createDatabase(localDbConfig);
    await this.pool.start();
  }

  async stop(): Promise<void> {
    await this.pool.stop();
    await this.#db?.close();
    await dropDatabase(this.clickhouseDatabase);
  }

  /** A call to the edge with an optional bearer token and JSON body. */
  async call(
    method: string,
    path: string,
    options: { token?: string; body?: unknown } = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = {};
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    if (options.body !== undefined) headers["content-type"] = "application/json";
    const init: RequestInit = { method, headers };
    if (options.body !== undefined) init.body = JSON.stringify(options.body);
    const response = await this.edge.request(path, init, this.bindings);
    const text = await response.text();
    return { status: response.status, body: text ? JSON.parse(text) : {}, headers: response.headers };
  }

  /** A fresh tenant. */
  async tenant(prefix: string): Promise<string> {
    const id = uniqueId(prefix);
    await createTenant(this.db, { id }, testActor);
    return id;
  }

  /** A fresh admin credential's secret. */
  async adminKey(role: AdminRole, tenantId: string | null = null): Promise<{ key: string; id: string }> {
    const { key, record } = await createAdminKey(
      this.db,
      { name: `test-${role}`, role, tenantId },
      testActor,
    );
    return { key, id: record.id };
  }

  /** A fresh traffic key of `tenantId`. */
  async trafficKey(tenantId: string): Promise<{ key: string; id: string }> {
    const { key, record } = await createKey(this.db, { tenantId, name: "test" }, testActor);
    return { key, id: record.id };
  }
}

/** For a test file: the stack started before its tests and stopped after them. */
export function useAdminStack(port: number, name: string, poolEnv: Record<string, string> = {}): AdminStack {
  const stack = new AdminStack(port, name, poolEnv);
  beforeAll(async () => {
    await stack.start();
  }, 120_000);
  afterAll(async () => {
    await stack.stop();
  }, 60_000);
  return stack;
}
