/** `npm run registry`: the model registry's admin CLI, straight on Postgres. */
import { userInfo } from "node:os";
import { z } from "zod";
import { GatewayError } from "../../shared/errors.ts";
import { RegistryAdmin, storeRegistryChanges } from "../admin/registry.ts";
import { createDatabase, type Database } from "../db/client.ts";
import { type WorkerEnv, workerEnvSchema } from "../pool/env.ts";
import { type Capability, capabilities } from "../providers/types.ts";
import { addCatalogModel, catalogRows } from "../registry/catalog-store.ts";
import { metricsURLOf } from "../registry/seed.ts";
import { addVersion, auditLog, listVersions, seedRegistryIfEmpty } from "../registry/store.ts";
import { cliActor } from "./lib/admin-cli.ts";
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
  add <tier|model> <version> <baseURL> <model> [--weight 1] [--key-name NAME]
      [--provider openai-compatible|anthropic|gemini|azure-openai|bedrock]
      [--api-version V] [--region R]        a new candidate version (any provider)
  model <name> --context N [--capabilities tools,vision,json_schema,embeddings,responses]
      [--aliases a,b] [--auto-tier medium]  a named catalog model (then add + promote a version)
  models                                    the catalog: names, aliases, capabilities, endpoints
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
  provider: z
    .enum(["openai-compatible", "anthropic", "gemini", "azure-openai", "bedrock"])
    .default("openai-compatible"),
});

const list = (text: string | undefined) =>
  text
    ? text
        .split(",")
        .map((t) => t.trim())
        .filter(Boolean)
    : [];

const modelOptions = z.object({
  context: z.coerce.number({ message: "must be a number" }).int().positive("must be more than 0"),
  capabilities: z.array(z.enum(capabilities as [Capability, ...Capability[]])),
});

interface Command {
  db: Database;
  args: string[];
  values: {
    reason?: string;
    actor?: string;
    weight?: string;
    "key-name"?: string;
    provider?: string;
    "api-version"?: string;
    region?: string;
    context?: string;
    capabilities?: string;
    aliases?: string;
    "auto-tier"?: string;
  } & Record<string, unknown>;
  actor: string;
  reason: string;
}

function needArgs(args: string[], count: number, what: string): string[] {
  if (args.length < count || args.slice(0, count).some((a) => !a)) {
    throw new CliError(`${what} needs ${count} argument${count > 1 ? "s" : ""}\n\n${usage}`);
  }
  return args;
}

/** The same service the admin API's registry routes use (audited in registry_audit and admin_audit). */
const registryAdmin = (db: Database) => new RegistryAdmin(db, storeRegistryChanges(db));

async function listAll({ db }: Command): Promise<void> {
  const versions = await registryAdmin(db).list();
  if (versions.length === 0) print("no versions in the registry");
  for (const v of versions) {
    const endpoints = v.endpoints.map((e) => `${e.baseURL} ${e.model} w=${e.weight}`).join("; ");
    print(`${v.tier.padEnd(8)} ${v.status.padEnd(9)} ${v.version.padEnd(32)} ${endpoints}`);
  }
}

async function add({ db, args, values, actor }: Command): Promise<void> {
  const [tier = "", version = "", baseURL = "", model = ""] = needArgs(args, 4, "add");
  const { weight, provider } = parseOptions(
    addOptions,
    { weight: values.weight, provider: values.provider },
    usage,
  );
  const options = {
    ...(values["api-version"] ? { apiVersion: values["api-version"] } : {}),
    ...(values.region ? { region: values.region } : {}),
  };
  const openAI = provider === "openai-compatible";
  const endpoint = {
    baseURL,
    model,
    weight,
    apiKeyName: values["key-name"] ?? null,
    metricsURL: openAI ? metricsURLOf(baseURL) : "",
    completions: openAI,
    provider,
    options: Object.keys(options).length > 0 ? options : null,
  };
  await addVersion(db, { tier, version, endpoints: [endpoint] }, actor);
  print(`added ${tier} ${version} as candidate`);
}

async function addModel({ db, args, values, actor }: Command): Promise<void> {
  const [name = ""] = needArgs(args, 1, "model");
  const { context, capabilities } = parseOptions(
    modelOptions,
    { context: values.context, capabilities: list(values.capabilities) },
    usage,
  );
  const aliases = list(values.aliases);
  const autoTier = values["auto-tier"] ?? null;
  await addCatalogModel(db, { name, aliases, autoTier, contextWindow: context, capabilities }, actor);
  print(
    `added model ${name}${aliases.length ? ` (aliases ${aliases.join(", ")})` : ""}; add and promote a version`,
  );
}

async function models({ db }: Command): Promise<void> {
  const rows = await catalogRows(db);
  if (rows.length === 0) print("no catalog models");
  const versions = await listVersions(db);
  for (const row of rows) {
    const active = versions.find((v) => v.tier === row.name && v.status === "active");
    const endpoints =
      active?.endpoints.map((e) => `${e.baseURL} ${e.model}`).join("; ") ?? "(no active version)";
    print(
      `${row.name} aliases=[${row.aliases.join(",")}] auto=${row.autoTier ?? "-"} ctx=${row.contextWindow} caps=[${row.capabilities.join(",")}] ${active?.version ?? ""} ${endpoints}`,
    );
  }
}

async function promoteVersion({ db, args, actor, reason }: Command): Promise<void> {
  const [tier = "", version = ""] = needArgs(args, 2, "promote");
  const change = await registryAdmin(db).promote({ tier, version, reason }, cliActor(actor));
  print(`${tier}: ${change.from ?? "(none)"} → ${change.to}`);
}

async function rollback({ db, args, actor, reason }: Command): Promise<void> {
  const [tier = ""] = needArgs(args, 1, "rollback");
  const change = await registryAdmin(db).rollback({ tier, reason }, cliActor(actor));
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
    await registryAdmin(db)
      .pin({ tier, pinned, reason }, cliActor(actor))
      .catch((error: unknown) => {
        if (error instanceof GatewayError && error.code === "NOT_FOUND")
          throw new CliError(`no tier '${tier}'`, 1);
        throw error;
      });
    print(`${tier}: ${pinned ? "pinned (no automatic rollback)" : "unpinned"}`);
  };
}

const commands: Record<string, (command: Command) => Promise<void>> = {
  list: listAll,
  add,
  model: addModel,
  models,
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
        provider: { type: "string" },
        "api-version": { type: "string" },
        region: { type: "string" },
        context: { type: "string" },
        capabilities: { type: "string" },
        aliases: { type: "string" },
        "auto-tier": { type: "string" },
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
