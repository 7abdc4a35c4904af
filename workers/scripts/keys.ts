/** `npm run keys`: create, list and revoke API keys in Postgres. */
import { z } from "zod";
import { createKey, listKeys, revokeKeyById } from "../admin/keys.ts";
import { createDatabase, type Database } from "../db/client.ts";
import { noKeyLookupCache, upstashKeyLookupCache } from "../lib/edge-key-cache.ts";
import {
  applySpendOptions,
  reconcileCommand,
  spendCommand,
  spendOptionSpec,
  spendUsage,
} from "./keys-spend.ts";
import { adminUsage, cliActor, durationOption, runAdminCommand } from "./lib/admin-cli.ts";
import {
  CliError,
  countOption,
  databaseEnvShape,
  defaultTenant,
  loadScriptEnv,
  parseCommandLine,
  parseOptions,
  print,
  printError,
  readStackEnv,
  runScript,
  stackEnvFile,
} from "./lib/script-env.ts";

const usage = `usage: npm run keys -- <command> [options]

  create [--tenant <id>] [--name <text>] [--rate-limit <per minute>] [--models a,b] [--cache-ttl <s>]
         [--expires-in 30d]
         creates the tenant if needed and prints the new key once (only its sha256 is stored);
         a key allows 60 requests a minute unless --rate-limit says otherwise; an expired key gets 401
  list   [--tenant <id>] [--json]
${spendUsage}
  revoke <key id>
         deletes the edge's cached lookup too (with UPSTASH_REDIS_REST_URL/TOKEN set); without
         them the edge stops accepting it within KEY_CACHE_TTL_SECONDS
${adminUsage}
Changes are written to the admin audit log with the actor cli:<user> (or --actor).

The tenant defaults to "${defaultTenant}" (the local development key's tenant).
Environment: DATABASE_URL (postgresql://user:password@host:port/db), NEON_WS_PROXY (local proxy only),
UPSTASH_REDIS_REST_URL and UPSTASH_REDIS_REST_TOKEN (the edge's Redis, so revoke clears the edge's cached
lookup); from a checkout whose local stack is up, they come from the stack.`;

const tenantOption = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, "letters, digits, '_', '.', '-' (at most 128)")
  .default(defaultTenant);

const createOptions = z.object({
  tenant: tenantOption,
  name: z.string().min(1).max(200).default("cli"),
  "rate-limit": countOption.optional(),
  models: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean),
    )
    .optional(),
  "cache-ttl": countOption.optional(),
  "expires-in": durationOption.optional(),
});

const listOptions = z.object({ tenant: tenantOption, json: z.boolean().optional() });

async function create(db: Database, raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(createOptions, raw, usage);
  const expiresIn = options["expires-in"];
  const { key, record } = await createKey(
    db,
    {
      tenantId: options.tenant,
      ensureTenant: true,
      name: options.name,
      ...(options["rate-limit"] === undefined ? {} : { rateLimitPerMinute: options["rate-limit"] }),
      allowedModels: options.models ?? null,
      cacheTtlSeconds: options["cache-ttl"] ?? null,
      ...(expiresIn ? { expiresAt: new Date(Date.now() + expiresIn * 1000) } : {}),
    },
    cliActor(raw.actor as string | undefined),
  );
  const spend = await applySpendOptions(db, { tenantId: options.tenant, keyId: record.id }, raw);
  const expiry = record.expires_at ? { expires_at: record.expires_at } : {};
  print(JSON.stringify({ key, id: record.id, tenant: record.tenant_id, prefix: record.prefix, ...expiry }));
  for (const line of spend) printError(line);
}

async function budget(db: Database, raw: Record<string, unknown>): Promise<void> {
  const tenant = parseOptions(z.object({ tenant: tenantOption }), { tenant: raw.tenant }, usage).tenant;
  const keyId = typeof raw.key === "string" ? raw.key : undefined;
  const set = await applySpendOptions(db, { tenantId: tenant, keyId }, raw);
  if (set.length === 0) throw new CliError(`budget needs --budget-usd or --budget-tokens\n\n${usage}`);
  for (const line of set) print(line);
}

async function list(db: Database, raw: Record<string, unknown>): Promise<void> {
  const options = parseOptions(listOptions, raw, usage);
  const keys = await listKeys(db, options.tenant);
  if (options.json) {
    print(JSON.stringify(keys));
    return;
  }
  if (keys.length === 0) {
    print(`no keys for tenant ${options.tenant}`);
    return;
  }
  for (const k of keys) {
    const models = k.allowed_models?.join(",") ?? "*";
    const expiry = k.expires_at ? `\texpires ${k.expires_at}` : "";
    print(
      `${k.id}\t${k.prefix}…\t${k.status}\t${k.rate_limit_per_minute}/min\t${models}\t${k.name}${expiry}`,
    );
  }
}

async function revoke(db: Database, keyId: string | undefined, actor: string | undefined): Promise<void> {
  if (!keyId) throw new CliError(`revoke needs a key id\n\n${usage}`);
  const stack = readStackEnv(stackEnvFile());
  const url = process.env.UPSTASH_REDIS_REST_URL || stack.UPSTASH_REDIS_REST_URL;
  const token = process.env.UPSTASH_REDIS_REST_TOKEN || stack.UPSTASH_REDIS_REST_TOKEN;
  const cache = url && token ? upstashKeyLookupCache(url, token) : noKeyLookupCache;
  const done = await revokeKeyById(db, keyId, cliActor(actor));
  for (const hash of done?.forgetHashes ?? []) await cache.forget(hash);
  const revoked = done?.revoked === true;
  print(revoked ? `revoked ${keyId}` : `${keyId} was not active (unknown or already revoked)`);
  if (!url || !token)
    printError("UPSTASH_REDIS_REST_URL/TOKEN unset: the edge's cached lookup expires on its own.");
  if (!revoked) process.exitCode = 1;
}

function commandLine(argv: string[]) {
  return parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: "string" },
        name: { type: "string" },
        "rate-limit": { type: "string" },
        models: { type: "string" },
        "cache-ttl": { type: "string" },
        json: { type: "boolean" },
        "expires-in": { type: "string" },
        role: { type: "string" },
        actor: { type: "string" },
        ...spendOptionSpec,
        help: { type: "boolean", short: "h" },
      },
    },
    usage,
  );
}

/** Key administration: create, list and revoke API keys in Postgres through drizzle. */
export async function runKeysCli(argv: string[]): Promise<void> {
  const { values, positionals } = commandLine(argv);
  const [command, ...rest] = positionals;
  if (values.help) {
    print(usage);
    return;
  }
  if (!command) throw new CliError(`a command is needed\n\n${usage}`);
  if (command === "spend") return spendCommand(values);
  if (!["create", "list", "revoke", "admin", "budget", "reconcile"].includes(command)) {
    throw new CliError(`unknown command '${command}'\n\n${usage}`);
  }
  const env = loadScriptEnv(z.object(databaseEnvShape));
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    if (command === "create") await create(database.db, values);
    else if (command === "list") await list(database.db, values);
    else if (command === "admin") await runAdminCommand(database.db, { rest, values, usage });
    else if (command === "budget") await budget(database.db, values);
    else if (command === "reconcile")
      await reconcileCommand(
        database.db,
        parseOptions(z.object({ tenant: tenantOption }), values, usage).tenant,
      );
    else await revoke(database.db, rest[0], values.actor);
  } finally {
    await database.close();
  }
}

if (import.meta.main) await runScript("keys", () => runKeysCli(process.argv.slice(2)));
