import type { Logger } from "../../shared/logger.ts";
import type { Database } from "../db/client.ts";
import type { WorkerEnv } from "../pool/env.ts";
import { defaultBalancerOptions } from "../router/balancer.ts";
import { RegistryDifficultySource } from "../router/learning/source.ts";
import { Router, type RouterConfig } from "../router/router.ts";
import { tableFromEnv } from "./seed.ts";
import {
  type ActiveChange,
  loadRoutingTable,
  type Promotion,
  promote,
  rollbackTier,
  seedRegistryIfEmpty,
} from "./store.ts";
import { RegistryWatcher } from "./watcher.ts";

/** The router of one worker and the registry it follows. */
export interface RoutingService {
  router: Router;
  watcher: RegistryWatcher | undefined;
  /** Resolves when the first registry read (and seeding) is done; routing works before, on the env table. */
  ready: Promise<void>;
  promote(change: Promotion): Promise<ActiveChange>;
  /** Rolls a tier back to its previous version (the drift job calls this). */
  rollback(tier: string, reason: string, actor: string): Promise<ActiveChange>;
  close(): void;
}

export function routerConfigFrom(config: WorkerEnv): RouterConfig {
  return {
    confidenceThreshold: config.ROUTER_CONFIDENCE_THRESHOLD,
    classifier: config.ROUTER_CLASSIFIER,
    ...(config.ROUTER_TARGET_SUCCESS !== undefined ? { targetSuccess: config.ROUTER_TARGET_SUCCESS } : {}),
    retry: {
      attempts: config.ROUTER_RETRY_ATTEMPTS,
      baseDelayMs: config.ROUTER_RETRY_BASE_MS,
      maxDelayMs: 250,
    },
    balancer: {
      ...defaultBalancerOptions,
      failureThreshold: config.BREAKER_FAILURE_THRESHOLD,
      cooldownMs: config.BREAKER_COOLDOWN_MS,
    },
  };
}

/**
 * Builds the router. With `REGISTRY_SOURCE=env` the table comes from the environment only. With
 * `postgres` (default) the worker starts on the env table, seeds an empty registry, then follows it by
 * polling; when Postgres is down at boot it keeps routing on the env table until the registry answers.
 */
export function createRoutingService(config: WorkerEnv, db: Database, logger: Logger): RoutingService {
  const initial = tableFromEnv(config);
  const fromEnv = config.REGISTRY_SOURCE === "env";
  const watcher = fromEnv
    ? undefined
    : new RegistryWatcher(initial, {
        load: async () => {
          const table = await loadRoutingTable(db, config);
          if (table.tiers.length > 0) return table;
          await seedRegistryIfEmpty(db, config);
          return loadRoutingTable(db, config);
        },
        intervalMs: config.REGISTRY_POLL_MS,
        onError: (error) => logger.warn("registry read failed; routing on the last table", { error }),
      });
  const router = new Router(() => watcher?.current ?? initial, routerConfigFrom(config));
  // The classifier and per-tenant shifts follow the registry too (the bundled model until it has one).
  const difficulty = fromEnv
    ? undefined
    : new RegistryDifficultySource(db, {
        intervalMs: config.REGISTRY_POLL_MS,
        onError: (error) => logger.warn("router model read failed; routing on the last one", { error }),
      });
  if (difficulty) {
    router.difficulty = difficulty;
    difficulty.start();
  }
  const ready = watcher
    ? seedRegistryIfEmpty(db, config)
        .catch((error: unknown) =>
          logger.warn("registry seed failed; will retry on the next poll", { error }),
        )
        .then(() => watcher.refresh())
        .then(() => watcher.start())
    : Promise.resolve();
  const refreshAfter = async (change: Promise<ActiveChange>) => {
    const done = await change;
    await watcher?.refresh();
    return done;
  };
  return {
    router,
    watcher,
    ready,
    promote: (change) => refreshAfter(promote(db, change)),
    rollback: (tier, reason, actor) => refreshAfter(rollbackTier(db, { tier, reason, actor })),
    close: () => {
      watcher?.stop();
      difficulty?.stop();
    },
  };
}
