/**
 * Semantic cache eval: `npm run eval:semantic-cache [-- --pairs FILE] [--entries 100000] [--queries 200]`.
 *
 * The labelled set (test/fixtures/semantic-cache/pairs.jsonl, README beside it) holds paraphrase pairs
 * (the same question: b may be served a's answer) and near-miss pairs (same words, different question: it
 * must not). Split by a fixed rule: a pair is in the tune half when the first hex digit of sha256(id) is
 * even, else in the test half. The threshold is tuned on the tune half from pairwise similarities (the
 * lowest threshold whose false hits stay ≤ 1% of near-misses, with the guard on); the test half is then
 * run end to end through the pool's SemanticCache (embeddings tier, ClickHouse store, guard): each pair's
 * `a` is stored in a partition of its own (its own system prompt), `b` is looked up. Also measured: the
 * store's lookup latency at 100k entries in one partition (test/bench/semantic-cache-latency.ts;
 * `--entries 0` skips it and keeps the last run's figures, marked as carried over).
 * Needs the stack (ClickHouse, model server): run under the stack lock. Writes
 * .stack/results/eval-semantic-cache.json.
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { z } from "zod";
import { createLogger } from "../../shared/logger.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { createClickHouse } from "../../workers/clickhouse/client.ts";
import { workerEnvSchema } from "../../workers/pool/env.ts";
import { canonicalPrompt } from "../../workers/semantic-cache/canonical.ts";
import { semanticCacheEmbedder } from "../../workers/semantic-cache/create.ts";
import { nearMissReason } from "../../workers/semantic-cache/guard.ts";
import { SemanticCache, swapChangesMeaning } from "../../workers/semantic-cache/service.ts";
import { ClickHouseSemanticStore } from "../../workers/semantic-cache/store.ts";
import { repoRoot, resultsDir, writeResults } from "../stack/paths.ts";
import { localClickHouse } from "../stack/services/clickhouse.ts";
import { fillLatencyTable, measureLookups } from "./semantic-cache-latency.ts";

const { values: args } = parseArgs({
  options: {
    pairs: { type: "string", default: join(repoRoot, "test/fixtures/semantic-cache/pairs.jsonl") },
    entries: { type: "string", default: "100000" },
    queries: { type: "string", default: "200" },
  },
});

const pairSchema = z.object({
  id: z.string(),
  kind: z.enum(["paraphrase", "near_miss"]),
  domain: z.string(),
  a: z.string().min(1),
  b: z.string().min(1),
});
type Pair = z.infer<typeof pairSchema>;

const config = workerEnvSchema
  .pick({
    EMBEDDINGS_BASE_URL: true,
    EMBEDDINGS_API_KEY: true,
    EMBEDDINGS_MODEL: true,
    EMBEDDINGS_MODEL_REVISION: true,
    EMBEDDINGS_DIMENSIONS: true,
    SEMANTIC_CACHE_THRESHOLD: true,
    SEMANTIC_CACHE_EXACT_MAX_ROWS: true,
    SEMANTIC_CACHE_DEADLINE_MS: true,
  })
  .parse(process.env);
const url = process.env.CLICKHOUSE_URL ?? localClickHouse.url;
const evalDb = "tiergate_semcache_eval";
const latencyDb = "tiergate_semcache_latency";
const admin = createClickHouse({ ...localClickHouse, url, database: "default", requestTimeoutMs: 600_000 });
const logger = createLogger({ level: "error" });
const embedder = semanticCacheEmbedder({ ...config, SEMANTIC_CACHE_DEADLINE_MS: 30_000 });

function inTuneHalf(id: string): boolean {
  const first = createHash("sha256").update(id).digest("hex")[0] ?? "0";
  return Number.parseInt(first, 16) % 2 === 0;
}

function cosine(a: readonly number[], b: readonly number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot;
}

interface Scored {
  pair: Pair;
  similarity: number;
  guard: string | null;
}

async function scorePairs(pairs: Pair[]): Promise<Scored[]> {
  const out: Scored[] = [];
  for (let i = 0; i < pairs.length; i += 32) {
    const batch = pairs.slice(i, i + 32);
    const texts = batch.flatMap((p) => [canonicalPrompt(p.a), canonicalPrompt(p.b)]);
    const vectors = await embedder.embed(texts);
    batch.forEach((pair, j) => {
      const a = vectors[2 * j] ?? [];
      const b = vectors[2 * j + 1] ?? [];
      out.push({ pair, similarity: cosine(a, b), guard: nearMissReason(pair.a, pair.b) });
    });
  }
  for (const scored of out) {
    if (scored.guard === null && (await swapChangesMeaning(embedder, scored.pair.a, scored.pair.b))) {
      scored.guard = "swap";
    }
  }
  return out;
}

function rates(scored: Scored[], threshold: number, guard: boolean) {
  const hit = (s: Scored) => s.similarity >= threshold && (!guard || s.guard === null);
  const para = scored.filter((s) => s.pair.kind === "paraphrase");
  const near = scored.filter((s) => s.pair.kind === "near_miss");
  return {
    threshold: Math.round(threshold * 1000) / 1000,
    paraphrase_hit_rate: para.filter(hit).length / Math.max(1, para.length),
    near_miss_false_hit_rate: near.filter(hit).length / Math.max(1, near.length),
  };
}

/** The lowest threshold (step 0.005) whose false hits on the tune half stay ≤ 1% of its near-misses. */
function tune(scored: Scored[]) {
  const curve = [];
  for (let t = 0.7; t <= 0.9951; t += 0.005) curve.push(rates(scored, t, true));
  const chosen = curve.find((r) => r.near_miss_false_hit_rate <= 0.01) ?? curve[curve.length - 1];
  if (!chosen) throw new Error("empty curve");
  return { chosen, curve };
}

function requestFor(pair: Pair, prompt: string): ChatCompletionRequest {
  return {
    model: "auto",
    temperature: 0,
    messages: [
      { role: "system", content: `eval pair ${pair.id}` },
      { role: "user", content: prompt },
    ],
  };
}

/** The test half end to end: store a, look b up, through SemanticCache over a scratch database. */
async function runTestHalf(pairs: Pair[], threshold: number) {
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: evalDb });
  await fillLatencyTable(admin, createClickHouse({ ...localClickHouse, url, database: evalDb }), {
    database: evalDb,
    entries: 0,
  });
  const ch = createClickHouse({ ...localClickHouse, url, database: evalDb });
  const cache = new SemanticCache({
    store: new ClickHouseSemanticStore(ch),
    embedder,
    logger,
    threshold,
    exactMaxRows: 20_000,
    deadlineMs: 30_000,
  });
  for (const pair of pairs) {
    const miss = await cache.lookup("eval", requestFor(pair, pair.a));
    if (miss.kind !== "miss") throw new Error(`pair ${pair.id}: a's lookup was ${miss.kind}`);
    const answer = {
      id: pair.id,
      object: "chat.completion",
      created: 0,
      model: "eval",
      choices: [
        { index: 0, message: { role: "assistant", content: `answer to ${pair.a}` }, finish_reason: "stop" },
      ],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    };
    cache.store(miss.pending, JSON.stringify(answer), 600);
  }
  await cache.flush();
  const outcomes = [];
  const lookupMs: number[] = [];
  for (const pair of pairs) {
    const t = performance.now();
    const found = await cache.lookup("eval", requestFor(pair, pair.b));
    lookupMs.push(performance.now() - t);
    if (found.kind === "skip") throw new Error(`pair ${pair.id}: lookup skipped (${found.reason})`);
    outcomes.push({
      pair,
      hit: found.kind === "hit",
      similarity: found.kind === "hit" ? found.similarity : null,
    });
  }
  await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: evalDb });
  await ch.close();
  return { outcomes, lookupMs };
}

async function main(): Promise<void> {
  const pairs = readFileSync(args.pairs, "utf8")
    .split("\n")
    .filter((line) => line.trim() !== "")
    .map((line) => pairSchema.parse(JSON.parse(line)));
  const tuneHalf = pairs.filter((p) => inTuneHalf(p.id));
  const testHalf = pairs.filter((p) => !inTuneHalf(p.id));
  process.stderr.write(`pairs: ${pairs.length} (tune ${tuneHalf.length}, test ${testHalf.length})\n`);
  const tuned = tune(await scorePairs(tuneHalf));
  const threshold = tuned.chosen.threshold;
  process.stderr.write(`tuned threshold ${threshold}\n`);
  const testScored = await scorePairs(testHalf);
  const { outcomes, lookupMs } = await runTestHalf(testHalf, threshold);
  const para = outcomes.filter((o) => o.pair.kind === "paraphrase");
  const near = outcomes.filter((o) => o.pair.kind === "near_miss");
  const sorted = [...lookupMs].sort((a, b) => a - b);
  const result = {
    pairs: { total: pairs.length, tune: tuneHalf.length, test: testHalf.length },
    split: "tune when the first hex digit of sha256(id) is even",
    threshold,
    targets: {
      near_miss_false_hit_rate_max: 0.01,
      paraphrase_hit_rate_min: 0.3,
      lookup_p95_ms_at_100k_max: 15,
    },
    test: {
      paraphrases: para.length,
      near_misses: near.length,
      paraphrase_hit_rate: para.filter((o) => o.hit).length / Math.max(1, para.length),
      near_miss_false_hit_rate: near.filter((o) => o.hit).length / Math.max(1, near.length),
      false_hits: near
        .filter((o) => o.hit)
        .map((o) => ({ id: o.pair.id, a: o.pair.a, b: o.pair.b, similarity: o.similarity })),
      without_guard_at_threshold: rates(testScored, threshold, false),
      end_to_end_lookup_ms: {
        p50: sorted[Math.floor(sorted.length * 0.5)],
        p95: sorted[Math.ceil(sorted.length * 0.95) - 1],
        note: "embedding call (model server) + partition count + exact scan of a small partition",
      },
    },
    tune_curve: tuned.curve,
    // Reported, never used to choose: the test half's pairwise rates (guard on) at other thresholds.
    test_curve: [0.8, 0.85, 0.9, 0.92, 0.94, 0.96].map((t) => rates(testScored, t, true)),
    latency: await latency(),
  };
  const file = writeResults("eval-semantic-cache", result);
  process.stdout.write(
    `${JSON.stringify({ threshold, test: { ...result.test, false_hits: result.test.false_hits.length }, latency: result.latency }, null, 2)}\n${file}\n`,
  );
}

/** `--entries 0` skips the fill (minutes on a shared machine) and carries the last measured block over. */
async function latency() {
  const entries = Number(args.entries);
  if (entries === 0) {
    try {
      const previous = JSON.parse(readFileSync(join(resultsDir, "eval-semantic-cache.json"), "utf8")) as {
        latency?: Record<string, unknown>;
      };
      return previous.latency ? { ...previous.latency, carried_over_from_previous_run: true } : null;
    } catch {
      return null;
    }
  }
  const ch = createClickHouse({ ...localClickHouse, url, database: latencyDb, requestTimeoutMs: 600_000 });
  try {
    const fillSeconds = await fillLatencyTable(admin, ch, { database: latencyDb, entries });
    process.stderr.write(`filled ${entries} entries in ${fillSeconds.toFixed(1)} s\n`);
    return {
      entries,
      fill_seconds: Math.round(fillSeconds * 10) / 10,
      ...(await measureLookups(ch, Number(args.queries))),
    };
  } finally {
    await admin.command("DROP DATABASE IF EXISTS {db:Identifier} SYNC", { db: latencyDb });
    await ch.close();
  }
}

await main()
  .catch((error: unknown) => {
    process.stderr.write(`eval-semantic-cache: ${error instanceof Error ? error.stack : String(error)}\n`);
    process.exitCode = 1;
  })
  .finally(() => admin.close());
