import { SpanKind } from "@opentelemetry/api";
import { attr } from "../../shared/trace-attributes.ts";
import { inSpan } from "./spans.ts";

const maxQueryText = 2_048;

/** The statement's first keyword (SELECT, INSERT, ALTER …), after leading comments and `WITH` blocks' name. */
function operationOf(sql: string): string {
  const match = sql.replace(/^\s*(--[^\n]*\n\s*)*/, "").match(/^\s*([A-Za-z]+)/);
  return (match?.[1] ?? "QUERY").toUpperCase();
}

/**
 * One ClickHouse call as a CLIENT span. The text recorded is the parameterised statement (values travel
 * separately as `{name:Type}` parameters), so no tenant data lands in the trace.
 */
export function tracedClickHouse<T>(sql: string, call: () => Promise<T>): Promise<T> {
  const operation = operationOf(sql);
  return inSpan(
    `${operation} clickhouse`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [attr.dbSystemName]: "clickhouse",
        [attr.dbOperationName]: operation,
        "db.query.text": sql.length > maxQueryText ? `${sql.slice(0, maxQueryText)}…` : sql,
      },
    },
    () => call(),
  );
}

/** An insert into `table` as a CLIENT span with the row count. */
export function tracedClickHouseInsert<T>(table: string, rows: number, call: () => Promise<T>): Promise<T> {
  return inSpan(
    `INSERT ${table}`,
    {
      kind: SpanKind.CLIENT,
      attributes: {
        [attr.dbSystemName]: "clickhouse",
        [attr.dbOperationName]: "INSERT",
        "db.collection.name": table,
        "db.operation.batch.size": rows,
      },
    },
    () => call(),
  );
}
