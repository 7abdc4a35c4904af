import { createHash } from "node:crypto";
import type { RespValue } from "./resp.ts";

/** Shebang flags Redis 7.0 knows; Upstash adds its own (e.g. `allow-key-locking`, used by @upstash/ratelimit). */
const redisScriptFlags = new Set([
  "no-writes",
  "allow-oom",
  "allow-stale",
  "no-cluster",
  "allow-cross-slot-keys",
]);

const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");

/** A command ready for Redis, and how to turn its reply back into what Upstash would answer. */
export interface PreparedCommand {
  command: string[];
  fixReply(reply: RespValue): RespValue;
}

const asIs = (reply: RespValue) => reply;

/**
 * Drops shebang flags that only Upstash understands, so vanilla Redis accepts the script, e.g.
 * `#!lua flags=allow-key-locking` becomes `#!lua`. Returns the script unchanged when nothing is dropped.
 */
export function stripUpstashScriptFlags(script: string): string {
  const match = /^#!lua[ \t]+flags=([^\r\n]*)/.exec(script);
  if (!match) return script;
  const flags = (match[1] ?? "").split(",").map((f) => f.trim());
  const kept = flags.filter((f) => redisScriptFlags.has(f));
  if (kept.length === flags.length) return script;
  const shebang = kept.length > 0 ? `#!lua flags=${kept.join(",")}` : "#!lua";
  return shebang + script.slice(match[0].length);
}

/**
 * Makes Upstash-flavoured Lua work on vanilla Redis while keeping the client's script hashes valid:
 * the client computes EVALSHA hashes over the original text, Redis over the rewritten one, so the
 * bridge remembers client-sha → redis-sha and translates EVALSHA, SCRIPT LOAD and SCRIPT EXISTS.
 * After a bridge restart the map is empty: EVALSHA answers NOSCRIPT and clients fall back to EVAL.
 */
export class ScriptCompat {
  private readonly redisShaByClientSha = new Map<string, string>();

  prepare(command: string[]): PreparedCommand {
    const name = command[0]?.toLowerCase();
    if ((name === "eval" || name === "eval_ro") && command[1] !== undefined) {
      return {
        command: [command[0] ?? name, this.rewrite(command[1]).script, ...command.slice(2)],
        fixReply: asIs,
      };
    }
    if ((name === "evalsha" || name === "evalsha_ro") && command[1] !== undefined) {
      return {
        command: [command[0] ?? name, this.redisSha(command[1]), ...command.slice(2)],
        fixReply: asIs,
      };
    }
    if (name === "script") return this.prepareScript(command);
    return { command, fixReply: asIs };
  }

  private prepareScript(command: string[]): PreparedCommand {
    const sub = command[1]?.toLowerCase();
    if (sub === "load" && command[2] !== undefined) {
      const { script, clientSha } = this.rewrite(command[2]);
      // Redis answers with the hash of the rewritten text; the client expects the hash of its own.
      return {
        command: [command[0] ?? "SCRIPT", command[1] ?? sub, script],
        fixReply: (r) => (Buffer.isBuffer(r) ? Buffer.from(clientSha) : r),
      };
    }
    if (sub === "exists") {
      return {
        command: [...command.slice(0, 2), ...command.slice(2).map((s) => this.redisSha(s))],
        fixReply: asIs,
      };
    }
    return { command, fixReply: asIs };
  }

  private rewrite(original: string): { script: string; clientSha: string } {
    const script = stripUpstashScriptFlags(original);
    const clientSha = sha1(original);
    if (script !== original) this.redisShaByClientSha.set(clientSha, sha1(script));
    return { script, clientSha };
  }

  private redisSha(clientSha: string): string {
    return this.redisShaByClientSha.get(clientSha.toLowerCase()) ?? clientSha;
  }
}
