import { and, desc, eq, inArray, sql } from "drizzle-orm";
import { GatewayError } from "../../shared/errors.ts";
import type { Database } from "../db/client.ts";
import { withPostgres } from "../db/client.ts";
import {
  type ModelVersionRow,
  modelEndpoints,
  modelVersions,
  registryAudit,
  registryTiers,
} from "../db/schema.ts";
import type { WorkerEnv } from "../pool/env.ts";
import type { ProviderKind, TaskType } from "../providers/types.ts";
import { catalogRows, withCatalog } from "./catalog-store.ts";
import { resolveApiKey, tierSeeds, tierShape } from "./seed.ts";
import type { RoutingTable, TierKind, VersionStatus } from "./types.ts";

/** Seeds tiers, a first active version per tier and its endpoint when the registry is empty. Idempotent. */
export async function seedRegistryIfEmpty(db: Database, config: WorkerEnv, actor = "seed"): Promise<boolean> {
  return withPostgres(() =>
    db.transaction(async (tx) => {
      // One seeder at a time across workers: the lock is released at commit.
      await tx.execute(sql`select pg_advisory_xact_lock(7240917005)`);
      const existing = await tx.select({ name: registryTiers.name }).from(registryTiers).limit(1);
      if (existing.length > 0) return false;
      for (const seed of tierSeeds(config)) {
        await tx.insert(registryTiers).values(tierShape(seed));
        const versionId = `${seed.name}:${seed.version}`;
        await tx
          .insert(modelVersions)
          .values({ id: versionId, tier: seed.name, name: seed.version, status: "active" });
        await tx.insert(modelEndpoints).values({
          id: `${versionId}#0`,
          versionId,
          ...seed.endpoint,
          baseUrl: seed.endpoint.baseURL,
          metricsUrl: seed.endpoint.metricsURL,
        });
        await tx.insert(registryAudit).values({
          tier: seed.name,
          action: "seed",
          fromVersion: null,
          toVersion: seed.version,
          actor,
          reason: "empty registry seeded from configuration",
        });
      }
      return true;
    }),
  );
}

/** Reads the routing table: each tier with its active version's endpoints. */
export async function loadRoutingTable(db: Database, config: WorkerEnv): Promise<RoutingTable> {
  return withPostgres(async () => {
    const tiers = await db.select().from(registryTiers);
    const active = await db.select().from(modelVersions).where(eq(modelVersions.status, "active"));
    const endpoints =
      active.length === 0
        ? []
        : await db
            .select()
            .from(modelEndpoints)
            .where(
              inArray(
                modelEndpoints.versionId,
                active.map((v) => v.id),
              ),
            );
    const routes = tiers
      .map((tier) => {
        const version = active.find((v) => v.tier === tier.name);
        return {
          name: tier.name,
          rank: tier.rank,
          kind: tier.kind as TierKind,
          tasks: tier.tasks as TaskType[],
          budgetMs: tier.budgetMs,
          timeoutMs: tier.timeoutMs,
          versionId: version?.id ?? "",
          version: version?.name ?? "",
          endpoints: endpoints
            .filter((e) => e.versionId === version?.id)
            .sort((a, b) => a.id.localeCompare(b.id))
            .map((e) => ({
              id: e.id,
              provider: e.provider as ProviderKind,
              baseURL: e.baseUrl,
              apiKey: resolveApiKey(config, e.apiKeyName),
              model: e.model,
              weight: e.weight,
              metricsURL: e.metricsUrl,
              completions: e.completions,
              ...(e.options ? { options: e.options } : {}),
            })),
        };
      })
      .sort((a, b) => a.rank - b.rank || a.name.localeCompare(b.name));
    return { source: "postgres", ...withCatalog(routes, await catalogRows(db)) };
  });
}

export interface VersionListing {
  tier: string;
  version: string;
  status: VersionStatus;
  endpoints: { id: string; baseURL: string; model: string; weight: number }[];
}

/** Every version of every tier with its endpoints, for the CLI and the admin route. */
export async function listVersions(db: Database): Promise<VersionListing[]> {
  return withPostgres(async () => {
    const versions = await db
      .select()
      .from(modelVersions)
      .orderBy(modelVersions.tier, desc(modelVersions.createdAt));
    const endpoints = await db.select().from(modelEndpoints);
    return versions.map((v) => ({
      tier: v.tier,
      version: v.name,
      status: v.status,
      endpoints: endpoints
        .filter((e) => e.versionId === v.id)
        .map((e) => ({ id: e.id, baseURL: e.baseUrl, model: e.model, weight: e.weight })),
    }));
  });
}

export interface NewVersion {
  tier: string;
  version: string;
  endpoints: {
    baseURL: string;
    model: string;
    weight?: number;
    apiKeyName?: string | null;
    metricsURL?: string;
    completions?: boolean;
    provider?: ProviderKind;
    options?: { apiVersion?: string; region?: string } | null;
  }[];
}

/** Adds a `candidate` version with its endpoints (promote it to make it serve). */
export async function addVersion(db: Database, input: NewVersion, actor: string): Promise<void> {
  const id = `${input.tier}:${input.version}`;
  await withPostgres(() =>
    db.transaction(async (tx) => {
      await tx
        .insert(modelVersions)
        .values({ id, tier: input.tier, name: input.version, status: "candidate" });
      for (const [i, e] of input.endpoints.entries()) {
        await tx.insert(modelEndpoints).values({
          id: `${id}#${i}`,
          versionId: id,
          baseUrl: e.baseURL,
          model: e.model,
          weight: e.weight ?? 1,
          apiKeyName: e.apiKeyName ?? null,
          metricsUrl: e.metricsURL ?? "",
          completions: e.completions ?? true,
          provider: e.provider ?? "openai-compatible",
          options: e.options ?? null,
        });
      }
      await tx.insert(registryAudit).values({
        tier: input.tier,
        action: "add",
        fromVersion: null,
        toVersion: input.version,
        actor,
        reason: "candidate added",
      });
    }),
  );
}

export interface ActiveChange {
  tier: string;
  from: string | null;
  to: string;
}

type Tx = Parameters<Parameters<Database["transaction"]>[0]>[0];

/** Writes the audit row of a change of the tier's active version (in its transaction) and returns the change. */
async function recordChange(
  tx: Tx,
  action: "promote" | "rollback",
  change: Rollback & ActiveChange,
): Promise<ActiveChange> {
  const { tier, from, to, actor, reason } = change;
  await tx.insert(registryAudit).values({ tier, action, fromVersion: from, toVersion: to, actor, reason });
  return { tier, from, to };
}

async function versionsOfTier(tx: Tx, tier: string): Promise<ModelVersionRow[]> {
  await tx.execute(sql`select 1 from registry_tiers where name = ${tier} for update`);
  return tx
    .select()
    .from(modelVersions)
    .where(eq(modelVersions.tier, tier))
    .orderBy(desc(modelVersions.statusChangedAt));
}

async function setStatus(tx: Tx, id: string, status: VersionStatus): Promise<void> {
  await tx.update(modelVersions).set({ status, statusChangedAt: sql`now()` }).where(eq(modelVersions.id, id));
}

/** A change of a tier's active version, with who made it and why (both go into the audit row). */
export interface Rollback {
  tier: string;
  actor: string;
  reason: string;
}

/** A promotion: `version` of `tier` becomes active. */
export interface Promotion extends Rollback {
  version: string;
}

/** Makes `version` the tier's active version; the old active one becomes `previous` (an older previous retires). */
export async function promote(db: Database, change: Promotion): Promise<ActiveChange> {
  const { tier, version } = change;
  return withPostgres(() =>
    db.transaction(async (tx) => {
      const versions = await versionsOfTier(tx, tier);
      const target = versions.find((v) => v.name === version);
      if (!target)
        throw new GatewayError("NOT_FOUND", `Tier '${tier}' has no version '${version}'.`, {
          param: "version",
        });
      const current = versions.find((v) => v.status === "active");
      if (current?.id === target.id) return { tier, from: current.name, to: current.name };
      for (const old of versions.filter((v) => v.status === "previous"))
        await setStatus(tx, old.id, "retired");
      if (current) await setStatus(tx, current.id, "previous");
      await setStatus(tx, target.id, "active");
      return recordChange(tx, "promote", { ...change, from: current?.name ?? null, to: version });
    }),
  );
}

/**
 * Rolls a tier back to its `previous` version; the version that was active retires. This is the call the
 * drift job makes when a version degrades.
 */
export async function rollbackTier(db: Database, change: Rollback): Promise<ActiveChange> {
  const { tier } = change;
  return withPostgres(() =>
    db.transaction(async (tx) => {
      const versions = await versionsOfTier(tx, tier);
      const previous = versions.find((v) => v.status === "previous");
      if (!previous)
        throw new GatewayError("BAD_REQUEST", `Tier '${tier}' has no previous version to roll back to.`, {
          param: "tier",
        });
      const current = versions.find((v) => v.status === "active");
      if (current) await setStatus(tx, current.id, "retired");
      await setStatus(tx, previous.id, "active");
      return recordChange(tx, "rollback", { ...change, from: current?.name ?? null, to: previous.name });
    }),
  );
}

/** The audit log of a tier (or all), newest first. */
export async function auditLog(db: Database, tier?: string, limit = 50) {
  return withPostgres(() =>
    db
      .select()
      .from(registryAudit)
      .where(tier ? and(eq(registryAudit.tier, tier)) : undefined)
      .orderBy(desc(registryAudit.id))
      .limit(limit),
  );
}
