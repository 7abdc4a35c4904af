/**
 * What every hand-run script shares: its configuration (the environment, with the local stack's values
 * filling whatever is unset), human error messages, and one way to end.
 *
 * The local stack writes its settings to `<stack dir>/local-env.json` when it comes up (the stack dir is
 * `TIERGATE_STACK_DIR`, or `.stack` in the checkout). Run from a checkout whose stack is up, a script
 * therefore needs no environment; in production there is no such file and the environment is all there
 * is. A variable that is set always wins over the file.
 */
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { z } from "zod";

/** The checkout this script runs from (three levels above this file). */
const checkoutRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

/** Name of the file the local stack writes its settings to, inside its stack dir. */
export const stackEnvFileName = "local-env.json";

/** The tenant scripts use when none is given; the local stack's development key belongs to it too. */
export const defaultTenant = "dev";

type Env = Record<string, string | undefined>;

/** A failure the user can fix (bad arguments, missing settings): printed without a stack trace. */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    /** Process exit code: 64 bad usage (EX_USAGE), 78 bad configuration (EX_CONFIG). */
    readonly exitCode: 64 | 78 | 1 = 64,
  ) {
    super(message);
  }
}

/** Where the local stack's settings are: `$TIERGATE_STACK_DIR/local-env.json`, else `.stack/` of the checkout. */
export function stackEnvFile(env: Env = process.env): string {
  return join(env.TIERGATE_STACK_DIR || join(checkoutRoot, ".stack"), stackEnvFileName);
}

const stackEnvSchema = z.record(z.string(), z.string());

/** The local stack's settings, or none when its file does not exist (production, or no stack yet). */
export function readStackEnv(file: string): Record<string, string> {
  if (!existsSync(file)) return {};
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    throw new CliError(`${file} is not valid JSON; run \`npm run stack -- up\` to write it again`, 78);
  }
  const parsed = stackEnvSchema.safeParse(json);
  if (!parsed.success) throw new CliError(`${file} must hold an object of strings`, 78);
  return parsed.data;
}

/**
 * zod issues as `KEY: message` lines, one per problem. `prefix` goes before each key (`--` for
 * command-line options); a key absent from `input` reads "not set" / "missing" instead of zod's type talk.
 */
export function formatIssues(error: z.ZodError, input: Record<string, unknown> = {}, prefix = ""): string {
  return error.issues
    .map((issue) => {
      const key = issue.path.map(String).join(".");
      const top = issue.path[0];
      const absent = issue.code === "invalid_type" && typeof top === "string" && input[top] === undefined;
      const message = absent ? (prefix ? "missing" : "not set") : issue.message;
      return key ? `${prefix}${key}: ${message}` : message;
    })
    .join("\n");
}

/** Environment values that count as set: defined and not empty. */
function setValues(env: Env): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).filter(
      (entry): entry is [string, string] => entry[1] !== undefined && entry[1] !== "",
    ),
  );
}

export interface ScriptEnvOptions {
  /** The environment (default process.env). */
  env?: Env;
  /** The local stack's settings file (default `stackEnvFile(env)`). */
  file?: string;
  /** Last-resort values for settings the script does not use but a shared schema requires. */
  fallbacks?: Record<string, string>;
}

/**
 * Validates a script's configuration: set variables, then the local stack's settings, then `fallbacks`.
 * Throws a CliError listing every problem as `KEY: message` (exit 78).
 */
export function loadScriptEnv<S extends z.ZodType>(schema: S, options: ScriptEnvOptions = {}): z.infer<S> {
  const env = options.env ?? process.env;
  const file = options.file ?? stackEnvFile(env);
  const source = { ...options.fallbacks, ...readStackEnv(file), ...setValues(env) };
  const parsed = schema.safeParse(source);
  if (parsed.success) return parsed.data;
  const hint = existsSync(file)
    ? `(set variables override the local stack's ${file})`
    : `Set these variables, or start the local stack (npm run stack -- up): scripts then read its ${file}.`;
  throw new CliError(`bad configuration\n${indent(formatIssues(parsed.error, source))}\n${hint}`, 78);
}

/** `parseArgs` whose failures (an unknown option, a missing value) are a CliError followed by the usage. */
export function parseCommandLine<T extends ParseArgsConfig>(
  config: T,
  usage: string,
): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (error: unknown) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
}

/** Parses command-line options; problems become a CliError (exit 64) naming each `--option`, then usage. */
export function parseOptions<S extends z.ZodType>(
  schema: S,
  raw: Record<string, unknown>,
  usage: string,
): z.infer<S> {
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  throw new CliError(`${formatIssues(parsed.error, raw, "--")}\n\n${usage}`);
}

function indent(text: string): string {
  return text
    .split("\n")
    .map((line) => `  ${line}`)
    .join("\n");
}

/** A whole number ≥ 1 given as text (`--batch 32`), with a message a person can act on. */
export const countOption = z
  .string()
  .regex(/^\d+$/, "must be a whole number")
  .transform(Number)
  .pipe(z.number().int().min(1, "must be at least 1"));

/** Postgres settings of a script. The URL must name a user and password: the driver cannot do without. */
export const databaseEnvShape = {
  DATABASE_URL: z.url().refine((url) => URL.canParse(url) && new URL(url).username !== "", {
    message: "needs a user and password: postgresql://user:password@host:port/database",
  }),
  /** Local only: the WebSocket-to-TCP proxy in front of Postgres (`host:port/v1`, a ws:// prefix is fine). */
  NEON_WS_PROXY: z.string().optional(),
};

/** Writes a line of the script's output to stdout. */
export function print(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** Writes a line to stderr (diagnostics, progress). */
export function printError(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Runs a script's main function: a CliError prints as `name: message` with its exit code, any other
 * failure as `name: message` with exit code 1, never a stack trace.
 */
export async function runScript(name: string, main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error: unknown) {
    printError(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    process.exitCode = error instanceof CliError ? error.exitCode : 1;
  }
}
