/**
 * One structured logger for the edge (workerd, Deno) and the pool (Bun): JSON lines with a level, a
 * time, a message, and the bound context (request id, tenant, component). It has no dependencies, so
 * it runs in every runtime the gateway does; it writes through the runtime's console, which is the
 * only sink that workerd exposes.
 *
 * Secrets never reach a line: fields whose name looks like a credential are replaced by "[redacted]".
 */

export type LogLevel = "debug" | "info" | "warn" | "error";

/** Fields carried on a line. Values must be JSON-serialisable; errors are flattened to name/message. */
export type LogFields = Record<string, unknown>;

/** What code depends on: levels, and `child` to bind context such as the request id and tenant. */
export interface Logger {
  debug(message: string, fields?: LogFields): void;
  info(message: string, fields?: LogFields): void;
  warn(message: string, fields?: LogFields): void;
  error(message: string, fields?: LogFields): void;
  /** A logger whose every line also carries `fields` (later bindings win). */
  child(fields: LogFields): Logger;
}

/** Where finished lines go; the default writes to the console (stderr for warn and error). */
export type LogSink = (level: LogLevel, line: string) => void;

const rank: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

const secretName = /(authorization|api[-_]?key|secret|password|token|cookie|signature)/i;

/* biome-ignore-start lint/suspicious/noConsole: the logger's console sink is the one allowed writer */
const consoleSink: LogSink = (level, line) => {
  if (level === "error" || level === "warn") console.error(line);
  else console.log(line);
};
/* biome-ignore-end lint/suspicious/noConsole: the logger's console sink is the one allowed writer */

function serialise(value: unknown): unknown {
  if (value instanceof Error) {
    const cause = value.cause === undefined ? undefined : serialise(value.cause);
    return { name: value.name, message: value.message, ...(cause === undefined ? {} : { cause }) };
  }
  if (typeof value === "bigint") return value.toString();
  return value;
}

function redact(fields: LogFields): LogFields {
  const out: LogFields = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    out[key] = secretName.test(key) ? "[redacted]" : serialise(value);
  }
  return out;
}

/** Options of {@link createLogger}. */
export interface LoggerOptions {
  /** Lines below this level are dropped. Default `info`. */
  level?: LogLevel;
  /** Context bound to every line, e.g. `{ service: "pool" }`. */
  bindings?: LogFields;
  sink?: LogSink;
  /** The clock, for tests. */
  now?: () => Date;
}

/** Builds a logger that writes one JSON object per line. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const min = rank[options.level ?? "info"];
  const sink = options.sink ?? consoleSink;
  const now = options.now ?? (() => new Date());
  const make = (bindings: LogFields): Logger => {
    const write = (level: LogLevel, message: string, fields?: LogFields): void => {
      if (rank[level] < min) return;
      const line = {
        level,
        time: now().toISOString(),
        msg: message,
        ...redact(bindings),
        ...redact(fields ?? {}),
      };
      sink(level, JSON.stringify(line));
    };
    return {
      debug: (message, fields) => write("debug", message, fields),
      info: (message, fields) => write("info", message, fields),
      warn: (message, fields) => write("warn", message, fields),
      error: (message, fields) => write("error", message, fields),
      child: (fields) => make({ ...bindings, ...fields }),
    };
  };
  return make(options.bindings ?? {});
}

/** Parses a LOG_LEVEL value; anything unknown is `info`. */
export function parseLogLevel(raw: string | undefined): LogLevel {
  return raw === "debug" || raw === "info" || raw === "warn" || raw === "error" ? raw : "info";
}

/** A logger that drops every line, for tests that don't read logs. */
export const silentLogger: Logger = createLogger({ sink: () => {} });
