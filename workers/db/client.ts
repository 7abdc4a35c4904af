import { neonConfig, Pool } from "@neondatabase/serverless";
import { drizzle, type NeonDatabase } from "drizzle-orm/neon-serverless";
import { DependencyError } from "../../shared/dependency-error.ts";
import * as schema from "./schema.ts";

// Bun and workerd have a global WebSocket; Node 20 (vitest, scripts) does not, so `ws` stands in there.
const nodeWebSocket = globalThis.WebSocket === undefined ? (await import("ws")).WebSocket : undefined;

export type Database = NeonDatabase<typeof schema>;

export interface DatabaseConfig {
  /** postgresql://user:password@host:port/db */
  databaseUrl: string;
  /**
   * Local development only: `host:port/path` of a WebSocket-to-TCP proxy in front of Postgres
   * (`ws://host:port/path` is accepted too).
   */
  wsProxy?: string;
  /** Fail a connection attempt after this long (default 5 s), so an outage surfaces quickly. */
  connectionTimeoutMs?: number;
  /** Pool size (default 10). */
  maxConnections?: number;
  /**
   * Postgres cancels any statement running longer than this (default 10 s; SQLSTATE 57014, reported as
   * a retryable DependencyError), so a stuck query cannot hold a connection and its request forever.
   */
  statementTimeoutMs?: number;
}

export interface DatabaseHandle {
  db: Database;
  pool: Pool;
  close(): Promise<void>;
}

/** Points the Neon driver at a local plain-WebSocket proxy instead of Neon's TLS endpoint. */
function useLocalProxy(wsProxy: string): void {
  // The driver adds the scheme itself (ws:// with useSecureWebSocket off), so a given one is dropped.
  const target = wsProxy.replace(/^wss?:\/\//, "");
  neonConfig.wsProxy = (host, port) => `${target}?address=${host}:${port}`;
  neonConfig.useSecureWebSocket = false;
  neonConfig.pipelineTLS = false;
  neonConfig.pipelineConnect = false;
}

/** Drizzle over a `@neondatabase/serverless` Pool. Call `close()` when done. */
export function createDatabase(config: DatabaseConfig): DatabaseHandle {
  if (nodeWebSocket) neonConfig.webSocketConstructor = nodeWebSocket;
  if (config.wsProxy) useLocalProxy(config.wsProxy);
  const pool = new Pool({
    connectionString: config.databaseUrl,
    connectionTimeoutMillis: config.connectionTimeoutMs ?? 5_000,
    max: config.maxConnections ?? 10,
    idleTimeoutMillis: 10_000,
    statement_timeout: config.statementTimeoutMs ?? 10_000,
  });
  // An idle connection dropped by the server emits 'error' on the pool; unhandled it would crash the
  // process. The pool discards that connection and the next query reports any lasting outage.
  pool.on("error", () => {});
  const db = drizzle({ client: pool, schema });
  let closed: Promise<void> | undefined;
  return {
    db,
    pool,
    close() {
      closed ??= pool.end();
      return closed;
    },
  };
}

// SQLSTATEs worth retrying: connection exceptions (class 08), shutdown/startup, too many
// connections, serialization failures, deadlocks and statements cancelled by the statement timeout.
const retryableSqlStates = new Set(["57P01", "57P02", "57P03", "53300", "40001", "40P01", "57014"]);
const connectionErrnos = new Set([
  "ECONNREFUSED",
  "ECONNRESET",
  "ETIMEDOUT",
  "EPIPE",
  "EAI_AGAIN",
  "ENOTFOUND",
]);
const connectionMessage =
  /connection terminated|connection timeout|timeout exceeded|websocket|socket|econnrefused|econnreset|closed/i;

function field(value: unknown, key: string): unknown {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>)[key] : undefined;
}

/** The innermost cause (drizzle wraps driver errors in DrizzleQueryError). */
function rootCause(error: unknown): unknown {
  let current = error;
  for (let depth = 0; depth < 5 && field(current, "cause") !== undefined; depth++)
    current = field(current, "cause");
  return current;
}

function describe(error: unknown): string {
  const message = field(error, "message");
  if (typeof message === "string" && message) return message;
  const type = field(error, "type");
  return typeof type === "string" ? `WebSocket ${type} event` : String(error);
}

/**
 * Classifies a failure of a Postgres call: a DependencyError for server (SQLSTATE) and connection
 * failures, or undefined for anything else (programming errors stay as they are).
 */
export function classifyPostgresError(error: unknown): DependencyError | undefined {
  if (error instanceof DependencyError) return error;
  const root = rootCause(error);
  const code = field(root, "code");
  if (typeof code === "string" && /^[0-9A-Z]{5}$/.test(code)) {
    const retryable = code.startsWith("08") || retryableSqlStates.has(code);
    return new DependencyError("postgres", retryable, `${code} ${describe(root)}`, { cause: error });
  }
  const isWebSocketEvent = !(root instanceof Error) && field(root, "type") === "error";
  const isConnectionFailure =
    isWebSocketEvent ||
    (typeof code === "string" && connectionErrnos.has(code)) ||
    connectionMessage.test(describe(root));
  if (isConnectionFailure) {
    return new DependencyError("postgres", true, `connection failed: ${describe(root)}`, { cause: error });
  }
  return undefined;
}

/** Runs a Postgres call, turning its server and connection failures into DependencyError. */
export async function withPostgres<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error: unknown) {
    throw classifyPostgresError(error) ?? error;
  }
}
