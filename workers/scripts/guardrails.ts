/** `npm run guardrails`: set, show, list and clear guardrail policies and input contracts. */
import { readFileSync } from "node:fs";
import { and, eq } from "drizzle-orm";
import { z } from "zod";
import type { KeyLookupCache } from "../db/api-keys.ts";
import { createDatabase, type Database } from "../db/client.ts";
import { apiKeys } from "../db/schema.ts";
import { PostgresGuardrailPolicyStore } from "../guardrails/policy-store.ts";
import { GuardrailPolicyError, GuardrailService, type PolicyScope } from "../guardrails/service.ts";
import { noKeyLookupCache, upstashKeyLookupCache } from "../lib/edge-key-cache.ts";
import {
  CliError,
  databaseEnvShape,
  loadScriptEnv,
  parseCommandLine,
  parseOptions,
  print,
  printError,
  readStackEnv,
  runScript,
  stackEnvFile,
} from "./lib/script-env.ts";

const usage = `usage: npm run guardrails -- <command> --tenant <id> [--key <key id>] [options]

  set   [--pii email=redact,card=block,...] [--policy injection=block,moderation=block,output=on,...]
        [--contract '<json>' | --contract-file <path>]
        merges the given guardrails into the scope's policy (the tenant's default, or the key's own,
        which overrides the tenant's per field) and/or replaces its input contract
  show  prints the scope's own policy and contract, and for a key what its requests run under
  list  every scope of the tenant
  clear removes the scope's policy and contract

PII detectors: email, phone, card, iban, ssn, ip, secret; modes: log, redact, block.
--policy items: injection=log|block, injection_threshold=0..1, moderation=log|block,
  moderation_on_error=open|closed, output=on|off, restore=on|off.
Contract JSON: {"metadataSchema": {JSON Schema}, "maxContentChars": n,
  "allowedRoles": ["system","user",...], "allowedContentParts": ["text","image_url"]}.
Changes reach the edge when its cached key lookup is dropped (done here when UPSTASH_REDIS_REST_URL/TOKEN
are set) or expires (KEY_CACHE_TTL_SECONDS).`;

const scopeOptions = z.object({
  tenant: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, "letters, digits, '_', '.', '-' (at most 128)"),
  key: z.string().min(1).max(128).optional(),
});
const setOptions = scopeOptions.extend({
  pii: z.string().optional(),
  policy: z.string().optional(),
  contract: z.string().optional(),
  "contract-file": z.string().optional(),
});

function contractOf(options: z.infer<typeof setOptions>): unknown {
  const text = options["contract-file"] ? readFileSync(options["contract-file"], "utf8") : options.contract;
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new CliError("the contract is not valid JSON");
  }
}

/** Drops the edge's cached lookups of the keys a change affects (all of the tenant's for its default). */
function cacheDropper(db: Database, cache: KeyLookupCache) {
  return async (scope: PolicyScope): Promise<void> => {
    const where = scope.keyId
      ? and(eq(apiKeys.tenantId, scope.tenantId), eq(apiKeys.id, scope.keyId))
      : eq(apiKeys.tenantId, scope.tenantId);
    const rows = await db.select({ hash: apiKeys.keyHash }).from(apiKeys).where(where);
    for (const row of rows) await cache.forget(row.hash);
  };
}

function edgeCache(): KeyLookupCache {
  const stack = readStackEnv(stackEnvFile());
  const url = process.env.UPSTASH_REDIS_REST_URL || stack.UPSTASH_REDIS_REST_URL;
  const token = process.env.UPSTASH_REDIS_REST_TOKEN || stack.UPSTASH_REDIS_REST_TOKEN;
  if (url && token) return upstashKeyLookupCache(url, token);
  printError(
    "UPSTASH_REDIS_REST_URL/TOKEN unset: the edge applies the change when its cached lookups expire.",
  );
  return noKeyLookupCache;
}

/** The service over Postgres, with the edge's key cache dropped after each change. */
export function guardrailService(db: Database, cache: KeyLookupCache): GuardrailService {
  return new GuardrailService({
    store: new PostgresGuardrailPolicyStore(db),
    keyBelongs: async (tenantId, keyId) => {
      const rows = await db
        .select({ id: apiKeys.id })
        .from(apiKeys)
        .where(and(eq(apiKeys.tenantId, tenantId), eq(apiKeys.id, keyId)));
      return rows.length > 0;
    },
    changed: cacheDropper(db, cache),
  });
}

async function run(service: GuardrailService, command: string, raw: Record<string, unknown>): Promise<void> {
  if (command === "set") {
    const options = parseOptions(setOptions, raw, usage);
    const spec = [options.pii, options.policy].filter(Boolean).join(",");
    const contract = contractOf(options);
    if (!spec && contract === undefined)
      throw new CliError(`set needs --pii, --policy or a contract\n\n${usage}`);
    const record = await service.set({
      tenantId: options.tenant,
      keyId: options.key,
      spec: spec || undefined,
      contract,
    });
    print(JSON.stringify(record));
    return;
  }
  const options = parseOptions(scopeOptions, raw, usage);
  const scope = { tenantId: options.tenant, keyId: options.key };
  if (command === "show") print(JSON.stringify(await service.show(scope)));
  else if (command === "list") print(JSON.stringify(await service.list(options.tenant)));
  else {
    const removed = await service.clear(scope);
    print(removed ? "cleared" : "nothing to clear");
    if (!removed) process.exitCode = 1;
  }
}

/** Guardrail administration over the service module, for a person at a terminal. */
export async function runGuardrailsCli(argv: string[]): Promise<void> {
  const { values, positionals } = parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        tenant: { type: "string" },
        key: { type: "string" },
        pii: { type: "string" },
        policy: { type: "string" },
        contract: { type: "string" },
        "contract-file": { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    },
    usage,
  );
  const { help, ...options } = values;
  const command = positionals[0];
  if (help) {
    print(usage);
    return;
  }
  if (!command || !["set", "show", "list", "clear"].includes(command)) {
    throw new CliError(`${command ? `unknown command '${command}'` : "a command is needed"}\n\n${usage}`);
  }
  const env = loadScriptEnv(z.object(databaseEnvShape));
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    await run(guardrailService(database.db, edgeCache()), command, options);
  } catch (error: unknown) {
    if (error instanceof GuardrailPolicyError) throw new CliError(error.message);
    throw error;
  } finally {
    await database.close();
  }
}

if (import.meta.main) await runScript("guardrails", () => runGuardrailsCli(process.argv.slice(2)));
