import { userInfo } from "node:os";
import { z } from "zod";
import { adminRoles } from "../../../shared/admin/rbac.ts";
import { createAdminKey, listAdminKeys, revokeAdminKey } from "../../admin/admin-keys.ts";
import type { Actor } from "../../admin/audit.ts";
import type { Database } from "../../db/client.ts";
import { CliError, parseOptions, print } from "./script-env.ts";

/** `30d`, `12h`, `45m`, `3600s` or a bare number of seconds → seconds. */
export const durationOption = z
  .string()
  .regex(/^\d{1,9}[smhd]?$/, "a duration like 30d, 12h, 45m or 3600s")
  .transform((raw) => {
    const unit = raw.at(-1) ?? "s";
    const factor = { s: 1, m: 60, h: 3_600, d: 86_400 }[unit] ?? 1;
    return Number.parseInt(raw, 10) * factor;
  })
  .refine((seconds) => seconds > 0 && seconds <= 315_360_000, "between 1 second and 10 years");

/** The audit actor of a CLI change: `cli:<user>` (or --actor). */
export function cliActor(actor: string | undefined): Actor {
  return { actor: actor ?? `cli:${userInfo().username}`, actorRole: "cli" };
}

export const adminUsage = `  admin create --role admin|tenant-admin|viewer [--tenant <id>] [--name <text>] [--expires-in 30d]
         an admin credential (tga_…) for the admin API, printed once; the first one is made here
         (bootstrap: this needs database access). tenant-admin needs --tenant; a viewer with
         --tenant reads that tenant only, without it every tenant
  admin list [--json]
  admin revoke <admin credential id>`;

const adminCreateOptions = z.object({
  role: z.enum(adminRoles),
  tenant: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,128}$/)
    .optional(),
  name: z.string().min(1).max(200).default("cli"),
  "expires-in": durationOption.optional(),
});

/** `npm run keys -- admin <create|list|revoke>`: admin credentials, through the admin service layer. */
export async function runAdminCommand(
  db: Database,
  args: { rest: string[]; values: Record<string, unknown>; usage: string },
): Promise<void> {
  const [sub, id] = args.rest;
  const actor = cliActor(args.values.actor as string | undefined);
  if (sub === "create") {
    const options = parseOptions(adminCreateOptions, args.values, args.usage);
    const { key, record } = await createAdminKey(
      db,
      {
        name: options.name,
        role: options.role,
        tenantId: options.tenant ?? null,
        ...(options["expires-in"] ? { expiresInSeconds: options["expires-in"] } : {}),
      },
      actor,
    );
    print(
      JSON.stringify({
        key,
        id: record.id,
        role: record.role,
        tenant: record.tenant_id,
        expires_at: record.expires_at,
      }),
    );
  } else if (sub === "list") {
    const keys = await listAdminKeys(db);
    if (args.values.json) print(JSON.stringify(keys));
    else if (keys.length === 0) print("no admin credentials");
    else
      for (const k of keys)
        print(`${k.id}\t${k.prefix}…\t${k.status}\t${k.role}\t${k.tenant_id ?? "*"}\t${k.name}`);
  } else if (sub === "revoke") {
    if (!id) throw new CliError(`admin revoke needs an admin credential id\n\n${args.usage}`);
    const record = await revokeAdminKey(db, id, actor);
    print(`revoked ${record.id}`);
  } else {
    throw new CliError(`admin needs create, list or revoke\n\n${args.usage}`);
  }
}
