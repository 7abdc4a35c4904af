/** `npm run backfill:events`: replays request events into ClickHouse from a JSONL file or from Kafka. */
import { z } from "zod";
import { topics } from "../../shared/events.ts";
import { type BackfillStats, backfillFromJsonl, backfillFromKafka, parseTime } from "../backfill/events.ts";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { workerEnvSchema } from "../pool/env.ts";
import { CliError, loadScriptEnv, parseCommandLine, print, runScript } from "./lib/script-env.ts";

const usage = `usage: npm run backfill:events -- --jsonl FILE [--from TS] [--to TS]
       npm run backfill:events -- --from-offset N|earliest [--topic ${topics.requestEvents}] [--from TS] [--to TS]

Replays request events into ClickHouse's events table, idempotently (a re-run inserts nothing twice).
--jsonl reads one event per line (an export, or a spool segment); --from-offset reads every partition
of the topic from offset N (or the earliest kept) up to its end now, without touching the live
ingest's consumer offsets. TS is epoch ms or an ISO date; events outside [--from, --to) are skipped.
Environment: CLICKHOUSE_URL (+ _USER, _PASSWORD, _DATABASE), KAFKA_BROKERS (for --from-offset);
from a checkout whose local stack is up, they come from the stack.`;

const eventsEnvSchema = workerEnvSchema
  .pick({ CLICKHOUSE_URL: true, CLICKHOUSE_USER: true, CLICKHOUSE_PASSWORD: true, CLICKHOUSE_DATABASE: true })
  .extend({ KAFKA_BROKERS: workerEnvSchema.shape.KAFKA_BROKERS.optional() });

const offsetOption = z.union([
  z.literal("earliest"),
  z
    .string()
    .regex(/^\d+$/, "must be an offset (a whole number) or 'earliest'")
    .transform((s) => BigInt(s)),
]);

function commandLine(argv: string[]) {
  return parseCommandLine(
    {
      args: argv,
      options: {
        jsonl: { type: "string" },
        "from-offset": { type: "string" },
        topic: { type: "string", default: topics.requestEvents },
        from: { type: "string" },
        to: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    },
    usage,
  );
}

function timeRange(values: { from?: string; to?: string }): { fromMs: number; toMs: number } {
  try {
    return { fromMs: parseTime(values.from, 0), toMs: parseTime(values.to, Number.MAX_SAFE_INTEGER) };
  } catch (error: unknown) {
    throw new CliError(`${error instanceof Error ? error.message : String(error)}\n\n${usage}`);
  }
}

/** Replays the events the command line names and prints the counts. */
export async function runBackfillEventsCli(argv: string[]): Promise<void> {
  const { values } = commandLine(argv);
  if (values.help) {
    print(usage);
    return;
  }
  const offset = values["from-offset"];
  if (!values.jsonl === (offset === undefined)) {
    throw new CliError(`give exactly one of --jsonl FILE and --from-offset N|earliest\n\n${usage}`);
  }
  const range = timeRange(values);
  const from = offset === undefined ? undefined : offsetOption.safeParse(offset);
  if (from && !from.success)
    throw new CliError(`--from-offset: ${from.error.issues[0]?.message}\n\n${usage}`);
  const env = loadScriptEnv(eventsEnvSchema);
  const brokers = env.KAFKA_BROKERS ?? [];
  if (from && brokers.length === 0) throw new CliError("bad configuration\n  KAFKA_BROKERS: not set", 78);
  const ch = createClickHouse(clickhouseConfig(env));
  const progress = (line: string) => process.stderr.write(`\r${line}`);
  try {
    const stats: BackfillStats = from
      ? await backfillFromKafka(ch, {
          brokers,
          topic: values.topic,
          fromOffset: from.data,
          range,
          onProgress: progress,
        })
      : await backfillFromJsonl(ch, { file: values.jsonl ?? "", range, onProgress: progress });
    process.stderr.write("\n");
    print(
      `backfill: ${stats.inserted} events inserted of ${stats.read} read (${stats.invalid} invalid, ${stats.outOfRange} out of range)`,
    );
  } finally {
    await ch.close();
  }
}

if (import.meta.main) await runScript("backfill", () => runBackfillEventsCli(process.argv.slice(2)));
