import { DependencyError } from "../../../shared/dependency-error.ts";
import { RespReplyError, type RespValue } from "./resp.ts";
import { type PreparedCommand, ScriptCompat } from "./script-compat.ts";

/** Runs commands on Redis as one pipelined batch; one reply per command. */
export type CommandRunner = (commands: string[][]) => Promise<RespValue[]>;

export interface BridgeOptions {
  /** The token clients must present as `Authorization: Bearer <token>` (or `?_token=`). */
  token: string;
  run: CommandRunner;
}

type JsonValue = string | number | null | JsonValue[];
type UpstashReply = { result: JsonValue } | { error: string };

/**
 * Commands that would change or block the shared, pipelined connections (connection state,
 * pub/sub, blocking pops). Transactions go through `/multi-exec` instead.
 */
const unsupported = new Set([
  "auth",
  "hello",
  "select",
  "quit",
  "reset",
  "client",
  "monitor",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
]);

class BadRequest extends Error {}

function json(body: UpstashReply | UpstashReply[], status = 200): Response {
  return new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
}

/** Converts a Redis reply to Upstash's JSON, base64-encoding strings when the client asked for it. */
export function toJson(value: RespValue, base64: boolean, topLevel = true): JsonValue {
  if (value === null || typeof value === "number") return value;
  if (typeof value === "string") {
    // Upstash leaves a top-level "OK" status as is; the client special-cases it.
    if (!base64 || (topLevel && value === "OK")) return value;
    return Buffer.from(value).toString("base64");
  }
  if (Buffer.isBuffer(value)) return value.toString(base64 ? "base64" : "utf8");
  if (value instanceof RespReplyError)
    return base64 ? Buffer.from(value.message).toString("base64") : value.message;
  return value.map((item) => toJson(item, base64, false));
}

function toReply(value: RespValue, base64: boolean): UpstashReply {
  return value instanceof RespReplyError ? { error: value.message } : { result: toJson(value, base64) };
}

function toArg(value: unknown): string {
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean") return String(value);
  throw new BadRequest("ERR command arguments must be strings, numbers or booleans");
}

function toCommand(value: unknown): string[] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadRequest("ERR a command must be a non-empty array");
  const command = value.map(toArg);
  const name = (command[0] ?? "").toLowerCase();
  if (unsupported.has(name))
    throw new BadRequest(`ERR '${name}' is not supported by the local Upstash bridge`);
  return command;
}

function toCommands(value: unknown): string[][] {
  if (!Array.isArray(value) || value.length === 0)
    throw new BadRequest("ERR expected a non-empty array of commands");
  return value.map(toCommand);
}

async function readJson(request: Request): Promise<unknown> {
  const text = await request.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("ERR failed to parse the request body as JSON");
  }
}

function authorized(request: Request, url: URL, token: string): boolean {
  const header = request.headers.get("authorization");
  if (header !== null) return header === `Bearer ${token}`;
  return url.searchParams.get("_token") === token;
}

/** Runs commands after Upstash→Redis rewrites, and maps each reply back. */
type PreparedRunner = (prepared: PreparedCommand[], wrapInTransaction: boolean) => Promise<RespValue[]>;

async function single(run: PreparedRunner, command: PreparedCommand, base64: boolean): Promise<Response> {
  const [reply = null] = await run([command], false);
  return reply instanceof RespReplyError ? json({ error: reply.message }, 400) : json(toReply(reply, base64));
}

async function pipeline(
  run: PreparedRunner,
  commands: PreparedCommand[],
  base64: boolean,
): Promise<Response> {
  const replies = await run(commands, false);
  return json(replies.map((reply) => toReply(reply, base64)));
}

async function multiExec(
  run: PreparedRunner,
  commands: PreparedCommand[],
  base64: boolean,
): Promise<Response> {
  const replies = await run(commands, true);
  const exec = replies.at(-1) ?? null;
  if (Array.isArray(exec)) return json(exec.map((reply) => toReply(reply, base64)));
  const queueError = replies.find((r): r is RespReplyError => r instanceof RespReplyError && r !== exec);
  const reason = exec instanceof RespReplyError ? exec.message : "EXECABORT transaction aborted";
  return json({ error: queueError ? `${reason} (${queueError.message})` : reason }, 400);
}

/** The path form: `/set/foo/bar` is `SET foo bar`; a POST body, if any, is appended as the last argument. */
async function pathCommand(request: Request, url: URL): Promise<string[]> {
  const command = url.pathname
    .split("/")
    .filter((part) => part.length > 0)
    .map((part) => {
      try {
        return decodeURIComponent(part);
      } catch {
        throw new BadRequest("ERR malformed percent-encoding in the path");
      }
    });
  if (request.method === "POST") {
    const body = await request.text();
    if (body.length > 0) command.push(body);
  }
  return toCommand(command);
}

/**
 * An Upstash-REST-compatible request handler: `POST /` with a JSON command, `/pipeline`,
 * `/multi-exec`, the `/cmd/arg/...` path form, bearer auth and `Upstash-Encoding: base64`.
 * Redis being unreachable answers 503 in Upstash's `{"error": …}` shape.
 */
export function createBridgeHandler(options: BridgeOptions): (request: Request) => Promise<Response> {
  const { token } = options;
  const scripts = new ScriptCompat();
  const run: PreparedRunner = async (prepared, wrapInTransaction) => {
    const commands = prepared.map((p) => p.command);
    if (!wrapInTransaction) {
      const replies = await options.run(commands);
      return replies.map((reply, i) => prepared[i]?.fixReply(reply) ?? reply);
    }
    const replies = await options.run([["MULTI"], ...commands, ["EXEC"]]);
    const exec = replies.at(-1);
    if (Array.isArray(exec)) replies[replies.length - 1] = exec.map((r, i) => prepared[i]?.fixReply(r) ?? r);
    return replies;
  };
  const prepare = (command: string[]) => scripts.prepare(command);
  return async (request) => {
    const url = new URL(request.url);
    if (!authorized(request, url, token)) return json({ error: "Unauthorized" }, 401);
    if (request.method !== "POST" && request.method !== "GET")
      return json({ error: "Method not allowed" }, 405);
    const base64 = request.headers.get("upstash-encoding")?.toLowerCase() === "base64";
    try {
      if (url.pathname === "/" || url.pathname === "") {
        return await single(run, prepare(toCommand(await readJson(request))), base64);
      }
      if (url.pathname === "/pipeline") {
        return await pipeline(run, toCommands(await readJson(request)).map(prepare), base64);
      }
      if (url.pathname === "/multi-exec") {
        return await multiExec(run, toCommands(await readJson(request)).map(prepare), base64);
      }
      return await single(run, prepare(await pathCommand(request, url)), base64);
    } catch (error: unknown) {
      if (error instanceof BadRequest) return json({ error: error.message }, 400);
      if (error instanceof DependencyError)
        return json({ error: `ERR redis unavailable: ${error.message.replace(/^redis: /, "")}` }, 503);
      const message = error instanceof Error ? error.message : String(error);
      return json({ error: `ERR bridge failure: ${message}` }, 500);
    }
  };
}
