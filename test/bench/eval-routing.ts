/**
 * eval:routing — are `auto` routing decisions right? On a labelled set (JSONL: `prompt` or `messages`,
 * `tier` = the cheapest tier that suffices, optional `category`; default test/fixtures/routing/prompts.jsonl)
 * split into tune and test halves by sha256 of the prompt, every classifier is scored on the test half:
 *
 * - `learned`: the bundled difficulty classifier (what a fresh stack routes with) through chooseTier at
 *   its default target, and the cost/quality curve as the target moves;
 * - `learned-retrained`: the same classifier trained on this file's tune half;
 * - `embedding`: logistic regression over MiniLM embeddings from the model server (+ the dense cues),
 *   trained on the tune half; its latency includes the embeddings call;
 * - `model+heuristic` (the small model labels the task) and `heuristic`, through the task policy;
 * - `always-large` and `oracle` as reference points.
 *
 *   npm run eval:routing [-- --prompts FILE] [--skip-model] [--skip-embedding]
 *
 * Figures: accuracy, under-routing, over-routing, cost relative to always-large (relative prices in
 * workers/router/difficulty/metrics.ts), the classifier's p95 latency and CPU per request. Writes
 * .stack/results/eval-routing.json. Run under the stack lock (it calls the model server).
 */
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import {
  type LabelledPrompt,
  readLabelledPrompts,
  splitPrompts,
} from "../../workers/router/difficulty/dataset.ts";
import { denseFeatureNames, embeddingFeatures } from "../../workers/router/difficulty/features.ts";
import {
  levelFor,
  type RoutingScore,
  relativeLevelPrices,
  scoreRouting,
  targetGrid,
} from "../../workers/router/difficulty/metrics.ts";
import {
  compileRouterModel,
  type Level,
  type LevelSuccess,
  levels,
} from "../../workers/router/difficulty/model.ts";
import { bundledRouterModel, learnedClassify } from "../../workers/router/difficulty/source.ts";
import { fitOrdinal, successOf, trainRouterModel } from "../../workers/router/difficulty/train.ts";
import { chooseTier, chooseTierByTask } from "../../workers/router/policy.ts";
import { context, localTable, testRouter } from "../integration/router/harness.ts";
import { writeResults } from "../stack/paths.ts";
import { localModelServer } from "../stack/services/model-server.ts";

const { values } = parseArgs({
  options: {
    prompts: { type: "string", default: "test/fixtures/routing/prompts.jsonl" },
    "skip-model": { type: "boolean", default: false },
    "skip-embedding": { type: "boolean", default: false },
  },
});
const file = values.prompts;
const sha256 = createHash("sha256").update(readFileSync(file)).digest("hex");
const { tune, test } = splitPrompts(readLabelledPrompts(file));
const table = localTable();

const ask = (text: string): ChatCompletionRequest => ({
  model: "auto",
  messages: [{ role: "user", content: text }],
});

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

interface OptionReport {
  score: RoutingScore;
  target?: number;
  latencyMs: { p50: number; p95: number; p99: number; max: number };
  cpuMsPerRequest: number;
  generatesText: boolean;
  curve?: (RoutingScore & { target: number })[];
  note?: string;
}

/** Times `route` per test prompt (after a warm-up pass) and scores its levels. */
async function measure(
  route: (p: LabelledPrompt) => Level | Promise<Level>,
  options: { repeats: number; generatesText: boolean },
): Promise<Pick<OptionReport, "score" | "latencyMs" | "cpuMsPerRequest" | "generatesText">> {
  for (const p of test.slice(0, 5)) await route(p);
  const times: number[] = [];
  const routed: Level[] = [];
  const cpuBefore = process.cpuUsage();
  for (let r = 0; r < options.repeats; r++) {
    for (const p of test) {
      const start = performance.now();
      const level = await route(p);
      times.push(performance.now() - start);
      if (r === 0) routed.push(level);
    }
  }
  const cpu = process.cpuUsage(cpuBefore);
  times.sort((a, b) => a - b);
  const round = (x: number) => Number(x.toFixed(4));
  return {
    score: scoreRouting(test.map((p, i) => ({ label: p.tier, routed: routed[i] as Level }))),
    latencyMs: {
      p50: round(quantile(times, 0.5)),
      p95: round(quantile(times, 0.95)),
      p99: round(quantile(times, 0.99)),
      max: round(times[times.length - 1] ?? 0),
    },
    cpuMsPerRequest: round((cpu.user + cpu.system) / 1000 / times.length),
    generatesText: options.generatesText,
  };
}

/** The knob's curve: routing quality and cost at every target on the grid. */
function curve(success: readonly LevelSuccess[]): (RoutingScore & { target: number })[] {
  return targetGrid.map((target) => ({
    target,
    ...scoreRouting(
      test.map((p, i) => ({ label: p.tier, routed: levelFor(success[i] as LevelSuccess, target) })),
    ),
  }));
}

/** The learned classifier end to end as the router runs it: classify, then chooseTier. */
async function learnedOption(compiled: ReturnType<typeof compileRouterModel>): Promise<OptionReport> {
  const target = compiled.model.defaultTarget;
  const route = (p: LabelledPrompt): Level => {
    const c = learnedClassify(ask(p.text), compiled);
    return (chooseTier(table, c.success as LevelSuccess, { target })?.tier.name ?? "large") as Level;
  };
  const measured = await measure(route, { repeats: 20, generatesText: false });
  const success = test.map((p) => learnedClassify(ask(p.text), compiled).success as LevelSuccess);
  return { ...measured, target, curve: curve(success) };
}

/** MiniLM vectors from the model server's /v1/embeddings, in input order. */
async function embed(texts: readonly string[]): Promise<number[][]> {
  const response = await fetch(`${localModelServer.baseURL}/embeddings`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${localModelServer.apiKey}` },
    body: JSON.stringify({ model: "tiergate-embed", input: texts }),
  });
  if (!response.ok) throw new Error(`embeddings: HTTP ${response.status}`);
  const body = (await response.json()) as { data: { index: number; embedding: number[] }[] };
  return body.data.sort((a, b) => a.index - b.index).map((d) => d.embedding);
}

async function embeddingOption(): Promise<OptionReport> {
  const tuneVectors: number[][] = [];
  for (let i = 0; i < tune.length; i += 16)
    tuneVectors.push(...(await embed(tune.slice(i, i + 16).map((p) => p.text))));
  const dimensions = tuneVectors[0]?.length ?? 384;
  const dim = dimensions + denseFeatureNames.length;
  const rows = tune.map((p, i) => ({ x: embeddingFeatures(tuneVectors[i] ?? [], p.text), tier: p.tier }));
  const { chosen, heads } = fitOrdinal(rows, dim, { folds: 5, maxUnder: 0.04 });
  const successFor = async (p: LabelledPrompt) =>
    successOf(heads, embeddingFeatures((await embed([p.text]))[0] ?? [], p.text));
  const measured = await measure(async (p) => levelFor(await successFor(p), chosen.target), {
    repeats: 1,
    generatesText: false,
  });
  const success: LevelSuccess[] = [];
  for (const p of test) success.push(await successFor(p));
  return {
    ...measured,
    target: chosen.target,
    curve: curve(success),
    note: "latency includes the /v1/embeddings call",
  };
}

async function taskPolicyOption(classifier: "model" | "heuristic"): Promise<OptionReport> {
  const router = testRouter(table, { classifier });
  return measure(
    async (p) => {
      const c = await router.classify(ask(p.text), context());
      return (chooseTierByTask(table, c, router.config.confidenceThreshold)?.tier.name ?? "large") as Level;
    },
    { repeats: classifier === "heuristic" ? 20 : 1, generatesText: classifier === "model" },
  );
}

const fixed = (level: (p: LabelledPrompt) => Level): OptionReport => ({
  score: scoreRouting(test.map((p) => ({ label: p.tier, routed: level(p) }))),
  latencyMs: { p50: 0, p95: 0, p99: 0, max: 0 },
  cpuMsPerRequest: 0,
  generatesText: false,
});

const options: Record<string, OptionReport> = {};
options.learned = await learnedOption(bundledRouterModel());
const retrained = trainRouterModel(tune, { version: "eval-retrained", source: file, sha256 });
options["learned-retrained"] = await learnedOption(compileRouterModel(retrained));
if (!values["skip-embedding"]) options.embedding = await embeddingOption();
options.heuristic = await taskPolicyOption("heuristic");
if (!values["skip-model"]) options["model+heuristic"] = await taskPolicyOption("model");
options["always-large"] = fixed(() => "large");
options.oracle = fixed((p) => p.tier);

const learned = options.learned;
const targets = {
  underRouting: { limit: 0.05, value: learned.score.underRouting, met: learned.score.underRouting <= 0.05 },
  overRouting: { limit: 0.2, value: learned.score.overRouting, met: learned.score.overRouting <= 0.2 },
  relativeCost: { limit: 0.4, value: learned.score.relativeCost, met: learned.score.relativeCost <= 0.4 },
  classifierP95Ms: { limit: 5, value: learned.latencyMs.p95, met: learned.latencyMs.p95 <= 5 },
};
const count = (ps: readonly LabelledPrompt[]) =>
  Object.fromEntries(levels.map((l) => [l, ps.filter((p) => p.tier === l).length]));
const out = writeResults("eval-routing", {
  file,
  sha256,
  split: { rule: "sha256(prompt)[0] & 1: 0 = tune, 1 = test", tune: count(tune), test: count(test) },
  prices: relativeLevelPrices,
  bundledModel: {
    version: bundledRouterModel().model.version,
    trainedOn: bundledRouterModel().model.trainedOn,
  },
  targets,
  options,
});

const pct = (x: number) => `${(x * 100).toFixed(1)}%`;
process.stdout.write(`test half of ${file}: ${test.length} prompts (${JSON.stringify(count(test))})\n`);
process.stdout.write(
  "option               target  accuracy  under   over    cost    large   p95 ms   cpu ms/req\n",
);
for (const [name, o] of Object.entries(options)) {
  const s = o.score;
  process.stdout.write(
    `${name.padEnd(20)} ${String(o.target ?? "-").padEnd(7)} ${pct(s.accuracy).padEnd(9)} ${pct(s.underRouting).padEnd(7)} ${pct(s.overRouting).padEnd(7)} ${pct(s.relativeCost).padEnd(7)} ${pct(s.largeShare).padEnd(7)} ${o.latencyMs.p95.toFixed(3).padEnd(8)} ${o.cpuMsPerRequest.toFixed(3)}\n`,
  );
}
process.stdout.write(
  "\nlearned (bundled) as the knob moves:\ntarget  accuracy  under   over    cost    large\n",
);
for (const c of learned.curve ?? []) {
  process.stdout.write(
    `${c.target.toFixed(2).padEnd(7)} ${pct(c.accuracy).padEnd(9)} ${pct(c.underRouting).padEnd(7)} ${pct(c.overRouting).padEnd(7)} ${pct(c.relativeCost).padEnd(7)} ${pct(c.largeShare)}\n`,
  );
}
process.stdout.write(`\ntargets: ${JSON.stringify(targets)}\nwrote ${out}\n`);
