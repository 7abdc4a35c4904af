import type { Message } from "@platformatic/kafka";
import type { z } from "zod";
import { DependencyError } from "../../shared/dependency-error.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { DeadLetter } from "./dead-letter.ts";

export type EventMessage = Message<string, string, string, string>;

/**
 * Where one topic's messages go: each value is validated with `schema` (whose fields equal the table's
 * columns) and inserted into `table`; invalid values go to the dead-letter topic.
 */
export interface IngestSink {
  topic: string;
  table: string;
  schema: z.ZodType<Record<string, unknown>>;
}

/** A validated row and the message it came from (for the dead-letter topic). */
interface Entry {
  row: Record<string, unknown>;
  message: EventMessage;
}

/** Messages collected since the last insert. */
export class PendingBatch {
  /** Valid rows per sink topic. */
  readonly entries = new Map<string, Entry[]>();
  /** Messages already known to be bad (no sink, invalid JSON, schema mismatch). */
  readonly rejected: DeadLetter[] = [];
  /** The last message per topic-partition: committing it commits everything before it. */
  readonly last = new Map<string, EventMessage>();
  /** First and last offset per topic-partition, for the insert deduplication token. */
  readonly #ranges = new Map<string, Map<number, [bigint, bigint]>>();
  /** Valid rows. */
  size = 0;

  /** Messages in the batch, valid or not. */
  get messages(): number {
    return this.last.size;
  }

  /** Validates a message against its sink and files it as a row or a rejection. */
  add(message: EventMessage, sink: IngestSink | undefined): void {
    const parsed = sink ? parseRow(sink.schema, message.value) : { error: `no sink for ${message.topic}` };
    if ("row" in parsed && sink) {
      const entries = this.entries.get(sink.topic) ?? [];
      entries.push({ row: parsed.row, message });
      this.entries.set(sink.topic, entries);
      this.size++;
    } else {
      this.rejected.push(letter(message, sink?.table, "error" in parsed ? parsed.error : "invalid"));
    }
    this.last.set(`${message.topic}/${message.partition}`, message);
    const ranges = this.#ranges.get(message.topic) ?? new Map<number, [bigint, bigint]>();
    const range = ranges.get(message.partition);
    ranges.set(message.partition, [range?.[0] ?? message.offset, message.offset]);
    this.#ranges.set(message.topic, ranges);
  }

  /** A token naming this batch's offsets in `topic`: a retried insert with it is dropped by ClickHouse. */
  dedupToken(topic: string): string {
    const ranges = [...(this.#ranges.get(topic) ?? new Map()).entries()]
      .sort(([a], [b]) => a - b)
      .map(([partition, [first, last]]) => `${partition}:${first}-${last}`)
      .join(",");
    return `${topic}/${ranges}`;
  }
}

function letter(message: EventMessage, table: string | undefined, reason: string): DeadLetter {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    table,
    reason,
  };
}

function parseRow(
  schema: z.ZodType<Record<string, unknown>>,
  value: string | undefined,
): { row: Record<string, unknown> } | { error: string } {
  if (!value) return { error: "empty message" };
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return { error: "not JSON" };
  }
  const parsed = schema.safeParse(json);
  if (parsed.success) return { row: parsed.data };
  const issues = parsed.error.issues.map((i) => `${i.path.map(String).join(".") || "(row)"}: ${i.message}`);
  return { error: `schema: ${issues.join("; ")}` };
}

/**
 * ClickHouse error types that blame particular rows (a value that does not parse or fit its column),
 * as opposed to the table, the connection or the credentials.
 */
const rowErrorTypes =
  /^(CANNOT_PARSE_|CANNOT_READ_|INCORRECT_DATA|TYPE_MISMATCH|VALUE_IS_OUT_OF_RANGE|ATTEMPT_TO_READ_AFTER_EOF|CANNOT_CONVERT_TYPE|TOO_LARGE_STRING_SIZE|INCORRECT_NUMBER_OF_COLUMNS|ILLEGAL_COLUMN|DECIMAL_OVERFLOW|ARGUMENT_OUT_OF_BOUND|CANNOT_INSERT_NULL)/;

/** The ClickHouse error type of a failed call (`[TYPE]` in the message, or the cause's `type`). */
function clickHouseErrorType(error: unknown): string {
  const cause = error instanceof Error ? (error.cause as { type?: unknown } | undefined) : undefined;
  if (typeof cause?.type === "string") return cause.type;
  return /\[([A-Z_]+)\]/.exec(error instanceof Error ? error.message : "")?.[1] ?? "";
}

/** Whether an insert failure blames rows of the batch (so isolating them lets the rest in). */
export function isRowError(error: unknown): boolean {
  return (
    error instanceof DependencyError && !error.retryable && rowErrorTypes.test(clickHouseErrorType(error))
  );
}

/**
 * Inserts a sink's rows. When ClickHouse refuses rows (see `isRowError`), the rows are halved until the
 * refused ones stand alone; they are returned as dead letters and the rest is inserted. Each part keeps a
 * token derived from the batch's, so a retry of the whole step inserts nothing twice. Other failures are
 * thrown (the caller retries).
 */
export async function insertIsolating(
  clickhouse: ClickHouse,
  sink: IngestSink,
  entries: readonly Entry[],
  token: string,
): Promise<DeadLetter[]> {
  const refused: DeadLetter[] = [];
  const insert = async (part: readonly Entry[], partToken: string): Promise<void> => {
    try {
      await clickhouse.insert(
        sink.table,
        part.map((entry) => entry.row),
        { dedupToken: partToken },
      );
    } catch (error: unknown) {
      if (!isRowError(error)) throw error;
      const first = part[0];
      if (part.length === 1 && first) {
        const reason = error instanceof Error ? error.message : String(error);
        refused.push(letter(first.message, sink.table, `clickhouse: ${reason}`));
        return;
      }
      const half = Math.ceil(part.length / 2);
      await insert(part.slice(0, half), `${partToken}#a`);
      await insert(part.slice(half), `${partToken}#b`);
    }
  };
  if (entries.length > 0) await insert(entries, token);
  return refused;
}
