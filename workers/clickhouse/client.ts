import { type ClickHouseSettings, createClient } from "@clickhouse/client-web";
import type { z } from "zod";
import { DependencyError } from "../../shared/dependency-error.ts";
import { tracedClickHouse, tracedClickHouseInsert } from "../tracing/clickhouse.ts";
import { HttpStatusError, toDependencyError } from "./errors.ts";
import { assertIdentifier } from "./identifier.ts";

export interface ClickHouseConfig {
  url: string;
  username: string;
  password: string;
  database: string;
  /** Per request; default 10 s. */
  requestTimeoutMs?: number;
}

/**
 * The one way tiergate talks to ClickHouse. Values always travel as `query_params` bound to
 * `{name:Type}` placeholders; identifiers use `{name:Identifier}` or come from code constants.
 * Every failure is a DependencyError("clickhouse", retryable, …).
 */
export interface ClickHouse {
  /** SELECT with {name:Type} parameters; every row validated with the zod schema. */
  query<S extends z.ZodType>(sql: string, params: Record<string, unknown>, row: S): Promise<z.infer<S>[]>;
  /** DDL or any statement without a result (parameters as in `query`). */
  command(sql: string, params?: Record<string, unknown>): Promise<void>;
  /** Inserts rows as JSONEachRow into a table named by a code constant (`table` or `db.table`). */
  insert(
    table: string,
    rows: readonly Record<string, unknown>[],
    options?: { dedupToken?: string },
  ): Promise<void>;
  /** True when the server answers a trivial query. Never throws. */
  ping(): Promise<boolean>;
  close(): Promise<void>;
}

/**
 * Settings on every query. 64-bit integers come back as JSON numbers, not strings (ClickHouse's server
 * default quotes them; chdb's does not): counts and sums here stay far below 2^53. A column that can
 * exceed that must be selected as `toString(x)` and validated as a string.
 */
const querySettings: ClickHouseSettings = { output_format_json_quote_64bit_integers: 0 };

/**
 * Inserts are synchronous (the callers batch), so a success means the rows are in a part. With a token,
 * a retried batch is dropped by ClickHouse instead of counted twice; on a non-replicated MergeTree this
 * needs the table setting `non_replicated_deduplication_window` (set by the migrations on `events` and on
 * the materialized views' target tables, so the aggregates are not counted twice either).
 */
function insertSettings(dedupToken: string | undefined): ClickHouseSettings {
  const settings: ClickHouseSettings = { async_insert: 0, insert_deduplicate: 1 };
  if (dedupToken !== undefined) settings.insert_deduplication_token = dedupToken;
  return settings;
}

/** fetch that reports a non-2xx answer not produced by ClickHouse (no exception header) with its status. */
async function statusAwareFetch(input: RequestInfo | URL, init?: RequestInit): Promise<Response> {
  const response = await fetch(input, init);
  if (response.ok || response.headers.has("x-clickhouse-exception-code")) return response;
  const body = await response.text().catch(() => "");
  if (/Code: \d+/.test(body))
    return new Response(body, { status: response.status, headers: response.headers });
  throw new HttpStatusError(response.status, body);
}

function rowError(index: number, issues: readonly z.core.$ZodIssue[]): DependencyError {
  const details = issues.map(
    (issue) => `column ${issue.path.map(String).join(".") || "(row)"}: ${issue.message}`,
  );
  return new DependencyError(
    "clickhouse",
    false,
    `row ${index} does not match its schema: ${details.join("; ")}`,
  );
}

export function createClickHouse(config: ClickHouseConfig): ClickHouse {
  const client = createClient({
    url: config.url,
    username: config.username,
    password: config.password,
    database: config.database,
    request_timeout: config.requestTimeoutMs ?? 10_000,
    // The client only calls it; Bun's `typeof fetch` also lists `preconnect`.
    fetch: statusAwareFetch as typeof fetch,
  });

  return {
    async query<S extends z.ZodType>(sql: string, params: Record<string, unknown>, row: S) {
      const raw = await tracedClickHouse(sql, async () => {
        try {
          const result = await client.query({
            query: sql,
            query_params: params,
            format: "JSONEachRow",
            clickhouse_settings: querySettings,
          });
          return await result.json<unknown>();
        } catch (error: unknown) {
          throw toDependencyError(error, "query failed");
        }
      });
      return raw.map((value, index) => {
        const parsed = row.safeParse(value);
        if (!parsed.success) throw rowError(index, parsed.error.issues);
        return parsed.data as z.infer<S>;
      });
    },

    command: (sql, params) =>
      tracedClickHouse(sql, async () => {
        try {
          await client.command({ query: sql, query_params: params, clickhouse_settings: querySettings });
        } catch (error: unknown) {
          throw toDependencyError(error, "command failed");
        }
      }),

    async insert(table, rows, options) {
      assertIdentifier(table, "table name");
      if (rows.length === 0) return;
      await tracedClickHouseInsert(table, rows.length, async () => {
        try {
          await client.insert({
            table,
            values: rows,
            format: "JSONEachRow",
            clickhouse_settings: insertSettings(options?.dedupToken),
          });
        } catch (error: unknown) {
          throw toDependencyError(error, `insert into ${table} failed`);
        }
      });
    },

    async ping() {
      const result = await client.ping().catch(() => ({ success: false }));
      return result.success;
    },

    close: () => client.close(),
  };
}
