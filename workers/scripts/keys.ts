import { parseArgs } from "node:util";
import { z } from "zod";
import { createApiKey, ensureTenant, listApiKeys, revokeApiKey } from "../db/api-keys.ts";
import { createDatabase, type Database } from "../db/client.ts";

const usage = `usage: npm run keys -- <command> [options]

  create --tenant <id> [--name <text>] [--rate-limit <per minute>] [--models a,b] [--cache-ttl <s>]
         creates the tenant if needed and prints the new key once (only its sha256 is stored)
  list   --tenant <id> [--json]
  revoke <key id>
         the edge stops accepting it within KEY_CACHE_TTL_SECONDS

Environment: DATABASE_URL (required), NEON_WS_PROXY (local WebSocket proxy, optional).`;

const createOptions = z.object({
  tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  name: z.string().min(1).max(200).default("cli"),
  "rate-limit": z.coerce.number().int().positive().optional(),
  models: z
    .string()
    .transform((s) =>
      s
        .split(",")
        .map((m) => m.trim())
        .filter(Boolean),
    )
    .optional(),
  "cache-ttl": z.coerce.number().int().positive().optional(),
});

async function create(db: Database, raw: Record<string, unknown>): Promise<void> {
  const options = createOptions.parse(raw);
  await ensureTenant(db, { id: options.tenant, name: options.tenant });
  const { key, record } = await createApiKey(db, {
    tenantId: options.tenant,
    name: options.name,
    rateLimitPerMinute: options["rate-limit"],
    allowedModels: options.models ?? null,
    cacheTtlSeconds: options["cache-ttl"] ?? null,
  });
  process.stdout.write(
    `${JSON.stringify({ key, id: record.id, tenant: record.tenantId, prefix: record.prefix })}\n`,
  );
}

async function list(db: Database, raw: Record<string, unknown>): Promise<void> {
  const tenant = z.string().min(1).parse(raw.tenant);
  const keys = await listApiKeys(db, tenant);
  if (raw.json) {
    process.stdout.write(`${JSON.stringify(keys)}\n`);
    return;
  }
  for (const k of keys) {
    const models = k.allowedModels?.join(",") ?? "*";
    process.stdout.write(
      `${k.id}\t${k.prefix}…\t${k.status}\t${k.rateLimitPerMinute}/min\t${models}\t${k.name}\n`,
    );
  }
}

async function revoke(db: Database, keyId: string | undefined): Promise<void> {
  if (!keyId) throw new Error("revoke needs a key id");
  const revoked = await revokeApiKey(db, keyId);
  process.stdout.write(
    `${revoked ? `revoked ${keyId}` : `${keyId} was not active (unknown or already revoked)`}\n`,
  );
  if (!revoked) process.exitCode = 1;
}

/** Key administration: create, list and revoke API keys in Postgres through drizzle. */
export async function runKeysCli(argv: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      tenant: { type: "string" },
      name: { type: "string" },
      "rate-limit": { type: "string" },
      models: { type: "string" },
      "cache-ttl": { type: "string" },
      json: { type: "boolean" },
    },
  });
  const [command, ...rest] = positionals;
  const databaseUrl = process.env.DATABASE_URL;
  if (!command || !["create", "list", "revoke"].includes(command) || !databaseUrl) {
    process.stderr.write(`${databaseUrl ? usage : `keys: set DATABASE_URL\n\n${usage}`}\n`);
    process.exitCode = 64;
    return;
  }
  const wsProxy = process.env.NEON_WS_PROXY;
  const database = createDatabase(wsProxy ? { databaseUrl, wsProxy } : { databaseUrl });
  try {
    if (command === "create") await create(database.db, values);
    else if (command === "list") await list(database.db, values);
    else await revoke(database.db, rest[0]);
  } finally {
    await database.close();
  }
}

if (import.meta.main) {
  await runKeysCli(process.argv.slice(2)).catch((error: unknown) => {
    process.stderr.write(`keys: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  });
}
