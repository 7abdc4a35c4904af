/**
 * Trains the routing classifier from the tune half of a labelled set and writes it as the bundled
 * default (and, with --registry, stores it in Postgres as the active router model):
 *
 *   npm run train:router [-- --prompts FILE] [--out FILE] [--registry] [--reason "…"]
 */
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { relative } from "node:path";
import { parseArgs } from "node:util";
import { readLabelledPrompts, splitPrompts } from "../router/difficulty/dataset.ts";
import { featureVersion } from "../router/difficulty/features.ts";
import { trainRouterModel } from "../router/difficulty/train.ts";

const { values } = parseArgs({
  options: {
    prompts: { type: "string", default: "test/fixtures/routing/prompts.jsonl" },
    out: { type: "string", default: "workers/router/difficulty/default-model.json" },
    registry: { type: "boolean", default: false },
    reason: { type: "string", default: "trained by train:router" },
  },
});
const file = values.prompts;
const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
const { tune } = splitPrompts(readLabelledPrompts(file));
const model = trainRouterModel(tune, {
  version: `lexical-f${featureVersion}-${sha256.slice(0, 12)}`,
  source: relative(process.cwd(), file),
  sha256,
});
writeFileSync(values.out, `${JSON.stringify(model)}\n`);
process.stdout.write(
  `trained ${model.version} on ${tune.length} tune prompts: default target ${model.defaultTarget}, ${JSON.stringify(model.metrics)} → ${values.out}\n`,
);
if (values.registry) {
  const { storeRouterModel } = await import("../router/learning/models.ts");
  const { createDatabase } = await import("../db/client.ts");
  const { loadWorkerEnv } = await import("../pool/env.ts");
  const config = loadWorkerEnv({
    POOL_SIGNING_SECRET: "x".repeat(32),
    CLICKHOUSE_URL: "http://127.0.0.1:8123",
    KAFKA_BROKERS: "",
    ...process.env,
  });
  const database = createDatabase({
    databaseUrl: config.DATABASE_URL,
    ...(config.NEON_WS_PROXY ? { wsProxy: config.NEON_WS_PROXY } : {}),
  });
  try {
    await storeRouterModel(database.db, model, {
      activate: true,
      actor: "train:router",
      reason: values.reason,
    });
    process.stdout.write(`stored ${model.version} in the registry as the active router model\n`);
  } finally {
    await database.close();
  }
}
