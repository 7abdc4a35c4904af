/** `npm run semantic-cache`: per-tenant and per-key semantic cache and payload logging settings. */
import { z } from "zod";
import { createDatabase } from "../db/client.ts";
import { type ResponseDataChange, ResponseDataSettingsService } from "../semantic-cache/settings.ts";
import {
  CliError,
  databaseEnvShape,
  defaultTenant,
  loadScriptEnv,
  parseCommandLine,
  parseOptions,
  print,
  runScript,
} from "./lib/script-env.ts";

const usage = `usage: npm run semantic-cache -- <command> [options]

  show [--tenant <id>] [--key <key id>]
         prints what the key (or the tenant default) runs with, as JSON
  list [--tenant <id>]
         prints the stored rows of the tenant (its default, key_id "", and key overrides)
  set  [--tenant <id>] [--key <key id>] [--semantic on|off|inherit] [--threshold <0..1>|inherit]
       [--payload-log on|off|inherit] [--retention-days <1..3650>|inherit]
         changes the tenant default, or one key's override with --key; "inherit" clears the field
         (a key inherits the tenant's, the tenant the default: off). --threshold can only make the
         deployment's SEMANTIC_CACHE_THRESHOLD stricter.

Edges pick a change up when their cached key lookup expires (KEY_CACHE_TTL_SECONDS, 30 s by default).
The tenant defaults to "${defaultTenant}". Environment: DATABASE_URL, NEON_WS_PROXY (local proxy only);
from a checkout whose local stack is up, they come from the stack.`;

const tenantOption = z
  .string()
  .regex(/^[A-Za-z0-9_.-]{1,128}$/, "letters, digits, '_', '.', '-' (at most 128)")
  .default(defaultTenant);
const keyOption = z.string().min(1).max(128).optional();
const toggle = z
  .enum(["on", "off", "inherit"])
  .transform((v) => (v === "inherit" ? null : v === "on"))
  .optional();
const inheritOr = (schema: z.ZodNumber) =>
  z.union([z.literal("inherit").transform(() => null), z.coerce.number().pipe(schema)]).optional();

const setOptions = z.object({
  tenant: tenantOption,
  key: keyOption,
  semantic: toggle,
  threshold: inheritOr(z.number().min(0).max(1)),
  "payload-log": toggle,
  "retention-days": inheritOr(z.number().int().min(1).max(3650)),
});
const showOptions = z.object({ tenant: tenantOption, key: keyOption });

function commandLine(argv: string[]) {
  const text = { type: "string" } as const;
  return parseCommandLine(
    {
      args: argv,
      allowPositionals: true,
      options: {
        tenant: text,
        key: text,
        semantic: text,
        threshold: text,
        "payload-log": text,
        "retention-days": text,
        help: { type: "boolean", short: "h" },
      },
    },
    usage,
  );
}

/** Runs one command of the CLI over ResponseDataSettingsService. */
export async function runSemanticCacheCli(argv: string[]): Promise<void> {
  const { values, positionals } = commandLine(argv);
  const [command] = positionals;
  if (values.help) {
    print(usage);
    return;
  }
  if (!command || !["show", "list", "set"].includes(command)) {
    throw new CliError(`${command ? `unknown command '${command}'` : "a command is needed"}\n\n${usage}`);
  }
  const env = loadScriptEnv(z.object(databaseEnvShape));
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  const service = new ResponseDataSettingsService(database.db);
  try {
    if (command === "set") {
      const o = parseOptions(setOptions, values, usage);
      const change: ResponseDataChange = {
        tenantId: o.tenant,
        keyId: o.key,
        semanticCacheEnabled: o.semantic,
        semanticCacheThreshold: o.threshold,
        payloadLoggingEnabled: o["payload-log"],
        payloadLogRetentionDays: o["retention-days"],
      };
      await service.change(change);
      print(JSON.stringify(await service.effective(o.tenant, o.key)));
    } else if (command === "show") {
      const o = parseOptions(showOptions, values, usage);
      print(JSON.stringify(await service.effective(o.tenant, o.key)));
    } else {
      const o = parseOptions(showOptions, values, usage);
      print(JSON.stringify(await service.list(o.tenant)));
    }
  } finally {
    await database.close();
  }
}

if (import.meta.main) await runScript("semantic-cache", () => runSemanticCacheCli(process.argv.slice(2)));
