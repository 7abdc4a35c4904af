import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { z } from "zod";
import { DocumentStore } from "../backfill/document-store.ts";
import { createClickHouse } from "../clickhouse/client.ts";
import { clickhouseConfig } from "../clickhouse/config.ts";
import { workerEnvSchema } from "../pool/env.ts";
import { proposedThreshold, storeCalibratedThreshold } from "../retrieval/calibration.ts";

const usage = `usage: npm run rag:calibrate -- --collection NAME [--tenant T] (--threshold 0.52 | --from-results FILE)
Stores a collection's relevance threshold in ClickHouse (rag_collections), e.g. the one
\`npm run eval:rag -- --sweep\` proposed (--from-results .stack/results/eval-rag.json).`;

const argsSchema = z.object({
  collection: z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/),
  tenant: z.string().min(1).max(256),
  threshold: z.coerce.number().min(0).max(1).optional(),
  "from-results": z.string().min(1).optional(),
});

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      collection: { type: "string" },
      tenant: { type: "string", default: "default" },
      threshold: { type: "string" },
      "from-results": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return;
  }
  const parsed = argsSchema.safeParse(values);
  if (
    !parsed.success ||
    (parsed.data.threshold === undefined) === (parsed.data["from-results"] === undefined)
  ) {
    const issues = parsed.success
      ? "give exactly one of --threshold and --from-results"
      : parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("\n");
    process.stderr.write(`${issues}\n${usage}\n`);
    process.exit(64);
  }
  const args = parsed.data;
  const file = args["from-results"];
  const threshold = file ? proposedThreshold(JSON.parse(readFileSync(file, "utf8"))) : (args.threshold ?? 0);
  const env = workerEnvSchema
    .pick({
      CLICKHOUSE_URL: true,
      CLICKHOUSE_USER: true,
      CLICKHOUSE_PASSWORD: true,
      CLICKHOUSE_DATABASE: true,
    })
    .parse(process.env);
  const clickhouse = createClickHouse(clickhouseConfig(env));
  try {
    const key = { tenant: args.tenant, collection: args.collection };
    const { previous, stored } = await storeCalibratedThreshold(
      new DocumentStore(clickhouse),
      key,
      threshold,
    );
    process.stdout.write(
      `rag:calibrate: ${key.tenant}/${key.collection} threshold ${previous.toFixed(2)} → ${stored.toFixed(2)}\n`,
    );
  } finally {
    await clickhouse.close();
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    process.stderr.write(`rag:calibrate: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
