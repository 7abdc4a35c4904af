/**
 * The model registry's admin CLI (Bun), straight on Postgres:
 *
 *   npm run registry -- list
 *   npm run registry -- add <tier> <version> <baseURL> <model> [--weight 1] [--key-name NAME]
 *   npm run registry -- promote <tier> <version> [--reason "…"] [--actor you]
 *   npm run registry -- rollback <tier> [--reason "…"] [--actor you]
 *   npm run registry -- audit [tier]
 *   npm run registry -- pin <tier> [--reason "…"]     (the drift job never rolls a pinned tier back)
 *   npm run registry -- unpin <tier> [--reason "…"]
 *
 * Workers pick a change up on their next registry poll (REGISTRY_POLL_MS, 2 s by default).
 */
import { userInfo } from "node:os";
import { parseArgs } from "node:util";
import { localClickHouseUrl } from "../clickhouse/config.ts";
import { createDatabase } from "../db/client.ts";
import { setPinned } from "../drift/state.ts";
import { loadWorkerEnv } from "../pool/env.ts";
import { metricsURLOf } from "../registry/seed.ts";
import {
  addVersion,
  auditLog,
  listVersions,
  promote,
  rollbackTier,
  seedRegistryIfEmpty,
} from "../registry/store.ts";

const { positionals, values } = parseArgs({
  allowPositionals: true,
  options: {
    reason: { type: "string" },
    actor: { type: "string" },
    weight: { type: "string" },
    "key-name": { type: "string" },
  },
});
const [command, ...args] = positionals;
const config = loadWorkerEnv({
  POOL_SIGNING_SECRET: "x".repeat(32),
  CLICKHOUSE_URL: localClickHouseUrl,
  KAFKA_BROKERS: "",
  ...process.env,
});
const actor = values.actor ?? `cli:${userInfo().username}`;
const reason = values.reason ?? "manual change (no reason given)";
const database = createDatabase({
  databaseUrl: config.DATABASE_URL,
  ...(config.NEON_WS_PROXY ? { wsProxy: config.NEON_WS_PROXY } : {}),
});

function usage(): never {
  process.stderr.write(
    "usage: registry list | add <tier> <version> <baseURL> <model> | promote <tier> <version> | rollback <tier> | audit [tier] | pin <tier> | unpin <tier>\n",
  );
  process.exit(64);
}

try {
  await seedRegistryIfEmpty(database.db, config, actor);
  switch (command) {
    case "list": {
      for (const v of await listVersions(database.db)) {
        const endpoints = v.endpoints.map((e) => `${e.baseURL} ${e.model} w=${e.weight}`).join("; ");
        process.stdout.write(
          `${v.tier.padEnd(8)} ${v.status.padEnd(9)} ${v.version.padEnd(32)} ${endpoints}\n`,
        );
      }
      break;
    }
    case "add": {
      const [tier, version, baseURL, model] = args;
      if (!tier || !version || !baseURL || !model) usage();
      await addVersion(
        database.db,
        {
          tier,
          version,
          endpoints: [
            {
              baseURL,
              model,
              weight: Number(values.weight ?? 1),
              apiKeyName: values["key-name"] ?? null,
              metricsURL: metricsURLOf(baseURL),
            },
          ],
        },
        actor,
      );
      process.stdout.write(`added ${tier} ${version} as candidate\n`);
      break;
    }
    case "promote": {
      const [tier, version] = args;
      if (!tier || !version) usage();
      const change = await promote(database.db, { tier, version, actor, reason });
      process.stdout.write(`${tier}: ${change.from ?? "(none)"} → ${change.to}\n`);
      break;
    }
    case "rollback": {
      const [tier] = args;
      if (!tier) usage();
      const change = await rollbackTier(database.db, { tier, reason, actor });
      process.stdout.write(`${tier}: rolled back ${change.from ?? "(none)"} → ${change.to}\n`);
      break;
    }
    case "audit": {
      for (const row of await auditLog(database.db, args[0])) {
        process.stdout.write(
          `${row.at.toISOString()} ${row.tier} ${row.action} ${row.fromVersion ?? "-"} → ${row.toVersion ?? "-"} by ${row.actor}: ${row.reason}\n`,
        );
      }
      break;
    }
    case "pin":
    case "unpin": {
      const [tier] = args;
      if (!tier) usage();
      if (!(await setPinned(database.db, { tier, pinned: command === "pin", actor, reason }))) {
        throw new Error(`no tier '${tier}'`);
      }
      process.stdout.write(`${tier}: ${command === "pin" ? "pinned (no automatic rollback)" : "unpinned"}\n`);
      break;
    }
    default:
      usage();
  }
} catch (error: unknown) {
  process.stderr.write(`registry ${command}: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
} finally {
  await database.close();
}
