import { eq, inArray, sql } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { silentLogger } from "../../../shared/logger.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { modelEndpoints, modelVersions, registryAudit, registryTiers } from "../../../workers/db/schema.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { createRoutingService } from "../../../workers/registry/routing.ts";
import {
  addVersion,
  auditLog,
  listVersions,
  promote,
  seedRegistryIfEmpty,
} from "../../../workers/registry/store.ts";
import { findTier } from "../../../workers/registry/types.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { localModelServer } from "../../stack/services/model-server.ts";
import { context, eventually } from "../router/harness.ts";

const config = workerEnvSchema.parse({ ...localPoolEnv(), REGISTRY_POLL_MS: "200" });
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
// A tier of its own (an embeddings tier nobody else asks for by name), so the shared registry is untouched.
const tier = `regtest-${Date.now()}`;

afterAll(async () => {
  const ids = (
    await database.db.select({ id: modelVersions.id }).from(modelVersions).where(eq(modelVersions.tier, tier))
  ).map((v) => v.id);
  if (ids.length > 0) await database.db.delete(modelVersions).where(inArray(modelVersions.id, ids));
  await database.db.delete(registryTiers).where(eq(registryTiers.name, tier));
  await database.close();
});

describe("model registry in Postgres", () => {
  it("seeding is idempotent and leaves every default tier with an active version", async () => {
    await seedRegistryIfEmpty(database.db, config);
    expect(await seedRegistryIfEmpty(database.db, config)).toBe(false);
    const active = (await listVersions(database.db)).filter((v) => v.status === "active").map((v) => v.tier);
    expect(active).toEqual(expect.arrayContaining(["small", "medium", "large", "embed"]));
  });

  it("a worker picks up a promotion made elsewhere within its poll, routes to it, and a rollback restores the previous version", async () => {
    await database.db
      .insert(registryTiers)
      .values({ name: tier, rank: 900, kind: "embeddings", tasks: [], budgetMs: 200, timeoutMs: 10_000 });
    const routing = createRoutingService(config, database.db, silentLogger);
    try {
      await routing.ready;
      const endpoint = { baseURL: localModelServer.baseURL, model: localModelServer.embeddingModel };
      await addVersion(database.db, { tier, version: "embed-v1", endpoints: [endpoint] }, "test");
      await addVersion(
        database.db,
        { tier, version: "embed-v2", endpoints: [endpoint, { ...endpoint, weight: 2 }] },
        "test",
      );

      // Promoted straight in Postgres (as the CLI or another worker would): no call into this worker.
      await promote(database.db, { tier, version: "embed-v1", actor: "test", reason: "first version" });
      const v1 = await eventually(() => {
        const found = findTier(routing.router.routingTable, tier);
        return found?.version === "embed-v1" ? found : undefined;
      });
      expect(v1.endpoints).toHaveLength(1);
      const served = await routing.router.embed({ model: tier, input: "registry" }, context());
      expect(served.served).toMatchObject({ tier, version: "embed-v1" });

      await promote(database.db, { tier, version: "embed-v2", actor: "test", reason: "second version" });
      await eventually(() =>
        findTier(routing.router.routingTable, tier)?.version === "embed-v2" ? true : undefined,
      );
      expect(findTier(routing.router.routingTable, tier)?.endpoints.map((e) => e.weight)).toEqual([1, 2]);

      const change = await routing.rollback(tier, "drift detected", "drift-job");
      expect(change).toEqual({ tier, from: "embed-v2", to: "embed-v1" });
      expect(findTier(routing.router.routingTable, tier)?.version).toBe("embed-v1");
      const statuses = Object.fromEntries(
        (await listVersions(database.db)).filter((v) => v.tier === tier).map((v) => [v.version, v.status]),
      );
      expect(statuses).toEqual({ "embed-v1": "active", "embed-v2": "retired" });

      const audit = (await auditLog(database.db, tier)).map((r) => [
        r.action,
        r.fromVersion,
        r.toVersion,
        r.actor,
        r.reason,
      ]);
      expect(audit.slice(0, 3)).toEqual([
        ["rollback", "embed-v2", "embed-v1", "drift-job", "drift detected"],
        ["promote", "embed-v1", "embed-v2", "test", "second version"],
        ["promote", null, "embed-v1", "test", "first version"],
      ]);
    } finally {
      routing.close();
    }
  });

  it("the audit log is append-only: the database refuses updates and deletes", async () => {
    await expect(
      database.db.update(registryAudit).set({ reason: "rewritten" }).where(eq(registryAudit.tier, tier)),
    ).rejects.toThrow();
    await expect(database.db.delete(registryAudit).where(eq(registryAudit.tier, tier))).rejects.toThrow();
    const [row] = await database.db
      .select({ n: sql<number>`count(*)::int` })
      .from(registryAudit)
      .where(eq(registryAudit.tier, tier));
    expect(row?.n).toBeGreaterThanOrEqual(5);
  });

  it("endpoints belong to their version and go with it", async () => {
    const rows = await database.db
      .select()
      .from(modelEndpoints)
      .where(eq(modelEndpoints.versionId, `${tier}:embed-v2`));
    expect(rows).toHaveLength(2);
  });
});

describe("registry unavailable", () => {
  it("a worker whose Postgres is unreachable keeps routing on its last table (the env seed at boot)", async () => {
    // The WebSocket proxy forwards to a Postgres port where nothing listens: every read fails.
    const unreachable = createDatabase({
      databaseUrl: config.DATABASE_URL.replace(/:\d+\//, ":9/"),
      wsProxy: config.NEON_WS_PROXY,
      connectionTimeoutMs: 1_000,
    });
    const routing = createRoutingService(config, unreachable.db, silentLogger);
    try {
      await routing.ready;
      expect(await routing.watcher?.refresh()).toBe(false);
      expect(routing.router.routingTable.source).toBe("env");
      const { served } = await routing.router.embed({ model: "embed", input: "still routing" }, context());
      expect(served.tier).toBe("embed");
    } finally {
      routing.close();
      await unreachable.close();
    }
  });
});
