/** `npm run registry`: the model registry's admin CLI, straight on Postgres. */
import { userInfo } from "node:os";
import { z } from "zod";
import { createDatabase, type Database } from "../db/client.ts";
import { setPinned } from "../drift/state.ts";
import { type WorkerEnv, workerEnvSchema } from "../pool/env.ts";
import { metricsURLOf } from "../registry/seed.ts";
import {
  addVersion,
  auditLog,
  listVersions,
  promote,
  rollbackTier,
  seedRegistryIfEmpty,
} from "../registry/store.ts";
import {
  CliError,
  databaseEnvShape,
  loadScriptEnv,
  parseCommandLine,
  parseOptions,
  print,
  runScript,
} from "./lib/script-env.ts";
import { priceCommand, priceOptionSpec, pricesCommand, pricesUsage } from "./registry-prices.ts";

const usage = `usage: npm run registry -- <command>

  list                                      every tier's versions and endpoints
  add <tier> <version> <baseURL> <model> [--weight 1] [--key-name NAME]
                                            a new candidate version
  promote <tier> <version> [--reason "…"]   make a version active
  rollback <tier> [--reason "…"]            back to the previous active version
  audit [tier]                              the append-only log of changes
  pin <tier> | unpin <tier> [--reason "…"]  the drift job never rolls a pinned tier back
${pricesUsage}
  Every change takes --actor (default cli:<user>).

Workers pick a change up on their next registry poll (REGISTRY_POLL_MS, 2 s by default).
Environment: DATABASE_URL, NEON_WS_PROXY (local proxy only), and the VLLM_* tier variables that seed an
empty registry; from a checkout whose local stack is up, they come from the stack.`;

/** Settings the registry does not use but the pool's schema requires. */
const unusedByRegistry = {
  POOL_SIGNING_SECRET: "unused-by-the-registry-cli-0123456789",
  CLICKHOUSE_URL: "http://127.0.0.1:8123",
  KAFKA_BROKERS: "",
};

const registryEnvSchema = workerEnvSchema.extend(databaseEnvShape);

const addOptions = z.object({
  weight: z.coerce.number({ message: "must be a number" }).positive("must be more than 0").default(1),
});

interface Command {
  db: Database;
  args: string[];
  values: { reason?: string; actor?: string; weight?: string; "key-name"?: string } & Record<string, unknown>;
  actor: string;
  reason: string;
}

function needArgs(args: string[], count: number, what: string): string[] {
  if (args.length < count || args.slice(0, count).some((a) => !a)) {
    throw new CliError(`${what} needs ${count} argument${count > 1 ? "s" : ""}\n\n${usage}`);
  }
  return args;
}

async function list({ db }: Command): Promise<void> {
  const versions = await listVersions(db);
  if (versions.length === 0) print("no versions in the registry");
  for (const v of versions) {
    const endpoints = v.endpoints.map((e) => `${e.baseURL} ${e.model} w=${e.weight}`).join("; ");
    print(`${v.tier.padEnd(8)} ${v.status.padEnd(9)} ${v.version.padEnd(32)} ${endpoints}`);
  }
}

async function add({ db, args, values, actor }: Command): Promise<void> {
  const [tier = "", version = "", baseURL = "", model = ""] = needArgs(args, 4, "add");
  const { weight } = parseOptions(addOptions, { weight: values.weight }, usage);
  const endpoint = {
    baseURL,
    model,
    weight,
    apiKeyName: values["key-name"] ?? null,
    metricsURL: metricsURLOf(baseURL),
  };
  await addVersion(db, { tier, version, endpoints: [endpoint] }, actor);
  print(`added ${tier} ${version} as candidate`);
}

async function promoteVersion({ db, args, actor, reason }: Command): Promise<void> {
  const [tier = "", version = ""] = needArgs(args, 2, "promote");
  const change = await promote(db, { tier, version, actor, reason });
  print(`${tier}: ${change.from ?? "(none)"} → ${change.to}`);
}

async function rollback({ db, args, actor, reason }: Command): Promise<void> {
  const [tier = ""] = needArgs(args, 1, "rollback");
  const change = await rollbackTier(db, { tier, reason, actor });
  print(`${tier}: rolled back ${change.from ?? "(none)"} → ${change.to}`);
}

async function audit({ db, args }: Command): Promise<void> {
  const rows = await auditLog(db, args[0]);
  if (rows.length === 0) print(args[0] ? `no registry changes for tier ${args[0]}` : "no registry changes");
  for (const row of rows) {
    print(
      `${row.at.toISOString()} ${row.tier} ${row.action} ${row.fromVersion ?? "-"} → ${row.toVersion ?? "-"} by ${row.actor}: ${row.reason}`,
    );
  }
}

function pinning(pinned: boolean) {
  return async ({ db, args, actor, reason }: Command): Promise<void> => {
    const [tier = ""] = needArgs(args, 1, pinned ? "pin" : "unpin");
    if (!(await setPinned(db, { tier, pinned, actor, reason }))) throw new CliError(`no tier '${tier}'`, 1);
    print(`${tier}: ${pinned ? "pinned (no automatic rollback)" : "unpinned"}`);
  };
}

const commands: Record<string, (command: Command) => Promise<void>> = {
  list,
  add,
  promote: promoteVersion,
  rollback,
  audit,
  pin: pinning(true),
  unpin: pinning(false),
  price: priceCommand,
  prices: pricesCommand,
};

function commandLine(argv: string[]) {
  return parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        reason: { type: "string" },
        actor: { type: "string" },
        weight: { type: "string" },
        "key-name": { type: "string" },
        ...priceOptionSpec,
        help: { type: "boolean", short: "h" },
      },
    },
    usage,
  );
}

/** Runs one registry command; an empty registry is seeded from the VLLM_* variables first. */
export async function runRegistryCli(argv: string[]): Promise<void> {
  const { positionals, values } = commandLine(argv);
  if (values.help) {
    print(usage);
    return;
  }
  const [name, ...args] = positionals;
  if (!name) throw new CliError(`a command is needed\n\n${usage}`);
  const run = commands[name];
  if (!run) throw new CliError(`unknown command '${name}'\n\n${usage}`);
  const config: WorkerEnv = loadScriptEnv(registryEnvSchema, { fallbacks: unusedByRegistry });
  const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
  const actor = values.actor ?? `cli:${userInfo().username}`;
  try {
    await seedRegistryIfEmpty(database.db, config, actor);
    await run({
      db: database.db,
      args,
      values,
      actor,
      reason: values.reason ?? "manual change (no reason given)",
    });
  } finally {
    await database.close();
  }
}

if (import.meta.main) await runScript("registry", () => runRegistryCli(process.argv.slice(2)));
