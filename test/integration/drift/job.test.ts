import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { feedbackEventSchema, requestEventSchema } from "../../../shared/events.ts";
import { silentLogger } from "../../../shared/logger.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { driftState, modelVersions, registryAudit, registryTiers } from "../../../workers/db/schema.ts";
import { FeedbackPublisher } from "../../../workers/drift/feedback-publisher.ts";
import { type DriftJobDeps, runDriftJob, type TierReport } from "../../../workers/drift/job.ts";
import { defaultRollbackPolicy } from "../../../workers/drift/policy.ts";
import { defaultDriftThresholds, type WindowSample } from "../../../workers/drift/score.ts";
import { setPinned } from "../../../workers/drift/state.ts";
import { startIngest } from "../../../workers/events/consumer.ts";
import { createEventProducer } from "../../../workers/events/producer.ts";
import { latestDriftScores } from "../../../workers/events/stats.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { createRoutingService } from "../../../workers/registry/routing.ts";
import { addVersion, promote, rollbackTier } from "../../../workers/registry/store.ts";
import { findTier } from "../../../workers/registry/types.ts";
import { generateScenario, type ScenarioKind } from "../../bench/drift-scenarios.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { waitFor } from "../../stack/process.ts";
import {
  dropDatabase,
  ensureClickHouse,
  localClient,
  scratchDatabase,
} from "../clickhouse/local-clickhouse.ts";
import { deleteTopic, ensureKafka, localKafkaBrokers, scratchTopic } from "../events/local-kafka.ts";
import { eventually } from "../router/harness.ts";
import { baseTime, publishWindow, windowMs } from "./pipeline.ts";

const config = workerEnvSchema.parse({ ...localPoolEnv(), REGISTRY_POLL_MS: "200" });
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
const chDatabase = scratchDatabase("drift");
const run = Date.now().toString(36);
const tenant = `drift-${run}`;
const topicsMade: string[] = [];

/** One scenario on a tier of its own (embeddings kind: the router never sends chat there). */
interface Scenario {
  kind: ScenarioKind;
  tier: string;
  /** Job windows: 0 is the reference window, j ≥ 1 is the scenario's window j − 1. */
  windows: number;
  changeAt: number;
  /** Windows from which the previous version (v1) also gets traffic (it serves after a rollback). */
  v1From?: number;
  /** Only v1 exists (active, no previous) and it gets all the traffic. */
  single?: boolean;
  base: number;
}

const scenario = (
  kind: ScenarioKind,
  windows: number,
  changeAt: number,
  daysBack: number,
  v1From?: number,
) => ({
  kind,
  tier: `drift-${kind.replaceAll("_", "-")}-${run}`,
  windows,
  changeAt,
  v1From,
  base: baseTime(daysBack),
});
const scenarios = {
  stationary: scenario("stationary", 8, 99, 3),
  inputShift: scenario("input_shift", 7, 2, 4),
  gradual: scenario("gradual_output_shift", 14, 2, 5),
  accuracy: scenario("accuracy_drop", 12, 3, 6, 7),
  dip: scenario("transient_dip", 9, 3, 7),
  pinned: { ...scenario("accuracy_drop", 8, 2, 8), tier: `drift-pinned-${run}` },
  single: { ...scenario("accuracy_drop", 6, 1, 9), tier: `drift-single-${run}`, single: true },
} satisfies Record<string, Scenario>;

const allScenarios: Scenario[] = Object.values(scenarios);

function samplesOf(s: Scenario, seed: number): WindowSample[] {
  const { reference, windows } = generateScenario({
    kind: s.kind,
    seed,
    windows: s.windows - 1,
    changeAt: s.changeAt,
    requestsPerWindow: 200,
    labelledPerWindow: 60,
    dims: 8,
  });
  return [reference, ...windows];
}

const ch = localClient(chDatabase);
const webhookCalls: unknown[] = [];
let webhook: Server;
let webhookUrl = "";

function deps(overrides: Partial<DriftJobDeps> = {}): DriftJobDeps {
  return {
    db: database.db,
    clickhouse: ch,
    rollback: (tier, reason, actor) => rollbackTier(database.db, { tier, reason, actor }),
    thresholds: defaultDriftThresholds,
    policy: defaultRollbackPolicy,
    windowMs,
    webhookUrl,
    webhookTimeoutMs: 2_000,
    logger: silentLogger,
    ...overrides,
  };
}

/** Runs the job over windows [from, to) of one scenario; returns that tier's report per window. */
async function runWindows(s: Scenario, from: number, to: number, extra: Partial<DriftJobDeps> = {}) {
  const reports: TierReport[] = [];
  for (let j = from; j < to; j++) {
    const [report] = await runDriftJob(deps(extra), { now: s.base + (j + 1) * windowMs, tiers: [s.tier] });
    if (!report) throw new Error(`no report for ${s.tier}`);
    expect(report.outcome).not.toBe("failed");
    reports.push(report);
  }
  return reports;
}

const activeVersion = async (tier: string) =>
  (
    await database.db
      .select({ name: modelVersions.name, status: modelVersions.status })
      .from(modelVersions)
      .where(eq(modelVersions.tier, tier))
  ).find((v) => v.status === "active")?.name;

const alertRow = z.object({ action: z.string(), reason: z.string(), to_version: z.string() });
const alertsOf = (tier: string) =>
  ch.query(
    "SELECT action, reason, to_version FROM drift_alerts WHERE tier = {tier:String} ORDER BY ts",
    { tier },
    alertRow,
  );
const rollbacksOf = (tier: string) =>
  database.db
    .select()
    .from(registryAudit)
    .where(eq(registryAudit.tier, tier))
    .then((rows) => rows.filter((r) => r.action === "rollback"));

beforeAll(async () => {
  await Promise.all([ensureKafka(), ensureClickHouse()]);
  const admin = localClient("default");
  await migrateClickHouse(admin, chDatabase).finally(() => admin.close());
  webhook = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk: Buffer) => {
      body += chunk.toString();
    });
    req.on("end", () => {
      webhookCalls.push(JSON.parse(body));
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => webhook.listen(0, "127.0.0.1", resolve));
  webhookUrl = `http://127.0.0.1:${(webhook.address() as AddressInfo).port}/hook`;

  // Registry: each scenario tier has v1 (previous) and v2 (active).
  for (const s of allScenarios) {
    await database.db
      .insert(registryTiers)
      .values({ name: s.tier, rank: 950, kind: "embeddings", tasks: [], budgetMs: 200, timeoutMs: 10_000 });
    const endpoint = { baseURL: "http://127.0.0.1:8000/v1", model: "tiergate-embed" };
    await addVersion(database.db, { tier: s.tier, version: "v1", endpoints: [endpoint] }, "drift-test");
    await promote(database.db, { tier: s.tier, version: "v1", actor: "drift-test", reason: "first version" });
    if (s.single) continue;
    await addVersion(database.db, { tier: s.tier, version: "v2", endpoints: [endpoint] }, "drift-test");
    await promote(database.db, {
      tier: s.tier,
      version: "v2",
      actor: "drift-test",
      reason: "second version",
    });
  }

  // Traffic: every window through the real producer → Kafka → ingest → ClickHouse, feedback likewise.
  const eventsTopic = await scratchTopic("drift-events", 3);
  const feedbackTopic = await scratchTopic("drift-feedback", 3);
  topicsMade.push(eventsTopic, feedbackTopic);
  const producer = createEventProducer({
    brokers: localKafkaBrokers,
    topic: eventsTopic,
    spoolDir: `.stack/test-spool/drift-${run}`,
  });
  const feedback = new FeedbackPublisher({ brokers: localKafkaBrokers, topic: feedbackTopic });
  const ingest = startIngest({
    brokers: localKafkaBrokers,
    clickhouse: ch,
    groupId: `drift-${eventsTopic}`,
    sinks: [
      { topic: eventsTopic, table: "events", schema: requestEventSchema },
      { topic: feedbackTopic, table: "feedback", schema: feedbackEventSchema },
    ],
  });
  let published = 0;
  try {
    for (const [i, s] of allScenarios.entries()) {
      const samples = samplesOf(s, 1_000 + i);
      for (const [j, sample] of samples.entries()) {
        const traffic = { tier: s.tier, tenant, fromMs: s.base + j * windowMs, sample };
        if (!s.single) {
          const v2 = await publishWindow(producer, feedback, { ...traffic, version: "v2" });
          published += v2.events + v2.feedback;
        }
        if (s.single || (s.v1From !== undefined && j >= s.v1From)) {
          const v1 = await publishWindow(producer, feedback, { ...traffic, version: "v1" });
          published += v1.events + v1.feedback;
        }
      }
    }
    await producer.flush();
    const count = z.object({ n: z.number() });
    await waitFor(
      "drift traffic in ClickHouse",
      async () => {
        const [events] = await ch.query("SELECT count() AS n FROM events FINAL", {}, count);
        const [verdicts] = await ch.query("SELECT count() AS n FROM feedback FINAL", {}, count);
        return (events?.n ?? 0) + (verdicts?.n ?? 0) === published;
      },
      120_000,
      500,
    );
  } finally {
    await ingest.stop();
    await producer.close();
    await feedback.close();
  }
}, 240_000);

afterAll(async () => {
  const tiers = Object.values(scenarios).map((s) => s.tier);
  await database.db.delete(modelVersions).where(inArray(modelVersions.tier, tiers));
  await database.db.delete(registryTiers).where(inArray(registryTiers.name, tiers));
  await database.db.delete(driftState).where(inArray(driftState.tier, tiers));
  await database.close();
  await ch.close();
  await new Promise<void>((resolve) => webhook.close(() => resolve()));
  for (const t of topicsMade) await deleteTopic(t).catch(() => undefined);
  await dropDatabase(chDatabase);
});

describe("drift job on the real pipeline", () => {
  it("a stationary period captures a reference, scores every window below threshold and never alarms", async () => {
    const s = scenarios.stationary;
    const reports = await runWindows(s, 0, s.windows);
    expect(reports[0]?.outcome).toBe("reference_captured");
    for (const r of reports.slice(1)) {
      expect(r).toMatchObject({ outcome: "evaluated", action: "none", requests: 200 });
      expect(r.score ?? 99).toBeLessThan(defaultDriftThresholds.scoreThreshold);
      expect(r.accuracy ?? 0).toBeGreaterThan(defaultDriftThresholds.accuracyFloor);
    }
    const scores = await ch.query(
      "SELECT count() AS n, max(components['requests']) AS requests FROM drift_scores WHERE tier = {tier:String}",
      { tier: s.tier },
      z.object({ n: z.number(), requests: z.number() }),
    );
    expect(scores[0]).toEqual({ n: s.windows - 1, requests: 200 });
    expect(await alertsOf(s.tier)).toEqual([]);
    expect(await activeVersion(s.tier)).toBe("v2");
    // What the drift_score{tier} gauge and the dashboard read: the latest score of the tier.
    expect((await latestDriftScores(ch)).get(s.tier)).toBeCloseTo(reports.at(-1)?.score ?? -1, 6);
    // The same window again is not counted twice.
    const [again] = await runDriftJob(deps(), { now: s.base + s.windows * windowMs, tiers: [s.tier] });
    expect(again?.outcome).toBe("already_evaluated");
  });

  it("an abrupt input shift breaches at once on the input components and rolls back after K windows", async () => {
    const s = scenarios.inputShift;
    const reports = await runWindows(s, 0, s.windows);
    const firstShifted = s.changeAt + 1;
    for (const r of reports.slice(1, firstShifted)) expect(r.action).toBe("none");
    const shifted = reports[firstShifted];
    expect(shifted?.score ?? 0).toBeGreaterThan(defaultDriftThresholds.scoreThreshold);
    const [row] = await ch.query(
      `SELECT components['embedding_psi'] AS embedding, components['prompt_length_psi'] AS length,
              components['task_mix_psi'] AS tasks
       FROM drift_scores WHERE tier = {tier:String} AND ts = fromUnixTimestamp64Milli({ts:Int64}, 'UTC')`,
      { tier: s.tier, ts: s.base + (firstShifted + 1) * windowMs },
      z.object({ embedding: z.number(), length: z.number(), tasks: z.number() }),
    );
    // 8-d prompt projections: a moderate embedding shift (PSI > 0.1); length and task mix cross the alarm.
    expect(row?.embedding ?? 0).toBeGreaterThan(0.1);
    expect(row?.length ?? 0).toBeGreaterThan(defaultDriftThresholds.psiAlarm);
    expect(row?.tasks ?? 0).toBeGreaterThan(defaultDriftThresholds.psiAlarm);
    const rollbackAt = firstShifted + defaultRollbackPolicy.consecutiveWindows - 1;
    expect(reports[rollbackAt]).toMatchObject({ action: "rollback", rolledBackTo: "v1" });
    expect(await activeVersion(s.tier)).toBe("v1");
  });

  it("a gradual output shift is caught on the output components, without alarms before it starts", async () => {
    const s = scenarios.gradual;
    const reports = await runWindows(s, 0, s.windows);
    for (const r of reports.slice(1, s.changeAt + 1)) expect(r.action).toBe("none");
    const rollback = reports.findIndex((r) => r.action === "rollback");
    expect(rollback).toBeGreaterThan(s.changeAt + defaultRollbackPolicy.consecutiveWindows - 1);
    expect(reports[rollback]?.reason ?? "").toMatch(/largest: (answer_length_psi|confidence_psi)=/);
    expect(await activeVersion(s.tier)).toBe("v1");
  });

  it("an accuracy drop rolls back exactly once: registry, audit with numbers, alert, webhook, router pickup", async () => {
    const s = scenarios.accuracy;
    const watcher = createRoutingService(config, database.db, silentLogger);
    try {
      await watcher.ready;
      expect(findTier(watcher.router.routingTable, s.tier)?.version).toBe("v2");
      const reports = await runWindows(s, 0, s.windows);
      const rollbacks = reports.filter((r) => r.action === "rollback");
      expect(rollbacks).toHaveLength(1);
      const at = reports.findIndex((r) => r.action === "rollback");
      expect(at).toBe(s.changeAt + defaultRollbackPolicy.consecutiveWindows);
      // After it, v1 gets a reference and the still-bad traffic never rolls back again (cooldown, no previous).
      expect(reports[at + 1]).toMatchObject({ modelVersion: "v1", outcome: "reference_captured" });
      for (const r of reports.slice(at + 2)) expect(["none", "cooling_down"]).toContain(r.action);

      expect(await activeVersion(s.tier)).toBe("v1");
      const audit = await rollbacksOf(s.tier);
      expect(audit).toHaveLength(1);
      expect(audit[0]).toMatchObject({ fromVersion: "v2", toVersion: "v1", actor: "drift-job" });
      expect(audit[0]?.reason).toMatch(/3 consecutive windows: accuracy 0\.\d{3} < 0\.75 \(n=60\)/);
      expect(audit[0]?.reason).toMatch(
        /requests=200, score=\d+\.\d{3}, accuracy=0\.\d{3} \[0\.\d{3}, 0\.\d{3}\] n=60/,
      );
      const alerts = await alertsOf(s.tier);
      expect(alerts).toEqual([{ action: "rollback", reason: audit[0]?.reason, to_version: "v1" }]);
      expect(webhookCalls).toContainEqual(
        expect.objectContaining({
          type: "tiergate.drift_alert",
          tier: s.tier,
          action: "rollback",
          toVersion: "v1",
        }),
      );
      // Another worker's router follows the registry by polling.
      const picked = await eventually(() => {
        const found = findTier(watcher.router.routingTable, s.tier);
        return found?.version === "v1" ? found : undefined;
      });
      expect(picked.version).toBe("v1");
    } finally {
      watcher.close();
    }
  });

  it("a transient dip shorter than K windows recovers without a rollback and clears the streak", async () => {
    const s = scenarios.dip;
    const reports = await runWindows(s, 0, s.windows);
    const breaching = reports.filter((r) => (r.accuracy ?? 1) < defaultDriftThresholds.accuracyFloor);
    expect(breaching.length).toBeGreaterThan(0);
    expect(breaching.length).toBeLessThan(defaultRollbackPolicy.consecutiveWindows);
    expect(reports.every((r) => r.action === undefined || r.action === "none")).toBe(true);
    const [state] = await database.db.select().from(driftState).where(eq(driftState.tier, s.tier));
    expect(state?.breaches).toBe(0);
    expect(await rollbacksOf(s.tier)).toEqual([]);
    expect(await activeVersion(s.tier)).toBe("v2");
  });

  it("a pinned tier is never rolled back (one alert), and rolls back once unpinned", async () => {
    const s = scenarios.pinned;
    expect(
      await setPinned(database.db, { tier: s.tier, pinned: true, actor: "drift-test", reason: "hold v2" }),
    ).toBe(true);
    // A webhook that refuses connections: logged, never blocks the job.
    const broken = { webhookUrl: "http://127.0.0.1:9/refused" };
    const pinned = await runWindows(s, 0, s.windows - 1, broken);
    expect(pinned.filter((r) => r.action === "blocked_pinned").length).toBeGreaterThan(0);
    expect(pinned.some((r) => r.action === "rollback")).toBe(false);
    expect(await activeVersion(s.tier)).toBe("v2");
    expect((await alertsOf(s.tier)).map((a) => a.action)).toEqual(["blocked_pinned"]);

    await setPinned(database.db, { tier: s.tier, pinned: false, actor: "drift-test", reason: "release" });
    const [last] = await runWindows(s, s.windows - 1, s.windows, broken);
    expect(last).toMatchObject({ action: "rollback", rolledBackTo: "v1" });
    expect(await activeVersion(s.tier)).toBe("v1");
  });

  it("without a previous version the job alerts once but cannot roll back", async () => {
    const s = scenarios.single;
    const reports = await runWindows(s, 0, s.windows);
    expect(reports.filter((r) => r.action === "blocked_no_previous").length).toBeGreaterThan(0);
    expect(reports.some((r) => r.action === "rollback")).toBe(false);
    expect((await alertsOf(s.tier)).map((a) => a.action)).toEqual(["blocked_no_previous"]);
    expect(await rollbacksOf(s.tier)).toEqual([]);
    expect(await activeVersion(s.tier)).toBe("v1");
  });
});
