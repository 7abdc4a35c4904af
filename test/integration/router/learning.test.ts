import { randomUUID } from "node:crypto";
import { and, eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import {
  type FeedbackEvent,
  feedbackEventSchema,
  type RequestEvent,
  requestEventSchema,
} from "../../../shared/events.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { migratePostgres } from "../../../workers/db/migrate.ts";
import { routeAdjustments, routerModels, routingAudit } from "../../../workers/db/schema.ts";
import { FeedbackPublisher } from "../../../workers/drift/feedback-publisher.ts";
import { startIngest } from "../../../workers/events/consumer.ts";
import { createEventProducer, type EventProducer } from "../../../workers/events/producer.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { bundledRouterModel, learnedClassify } from "../../../workers/router/difficulty/source.ts";
import { type ClassReport, runRouteLearning } from "../../../workers/router/learning/job.ts";
import { retireActiveRouterModel, storeRouterModel } from "../../../workers/router/learning/models.ts";
import { defaultLearningPolicy } from "../../../workers/router/learning/policy.ts";
import { RegistryDifficultySource } from "../../../workers/router/learning/source.ts";
import { formatDecision } from "../../../workers/router/policy.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { waitFor } from "../../stack/process.ts";
import {
  dropDatabase,
  ensureClickHouse,
  localClient,
  scratchDatabase,
} from "../clickhouse/local-clickhouse.ts";
import { baseTime, windowMs } from "../drift/pipeline.ts";
import { deleteTopic, ensureKafka, localKafkaBrokers, scratchTopic } from "../events/local-kafka.ts";
import { context, localTable, testRouter } from "./harness.ts";

const config = workerEnvSchema.parse(localPoolEnv());
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
const chDatabase = scratchDatabase("routelearn");
const ch = localClient(chDatabase);
const run = randomUUID().slice(0, 8);
const tenants = { bad: `rl-bad-${run}`, good: `rl-good-${run}` };
const tiers = ["small", "medium", "large"] as const;
const policy = defaultLearningPolicy;
const prompt = "Translate to French: where is the train station, please?";
/** The task class the classifier gives the prompt: learning is keyed by it. */
const taskClass = learnedClassify(
  { model: "auto", messages: [{ role: "user", content: prompt }] },
  bundledRouterModel(),
).category as string;

let producer: EventProducer;
let feedback: FeedbackPublisher;
let ingest: ReturnType<typeof startIngest>;
let published = 0;
const topicsMade: string[] = [];

/**
 * One window of a tenant's traffic through the real producers: `requests` routed events of the class on
 * `tier`, the first `rated` of them rated, `good` of those +1 and the rest −1.
 */
function publishWindow(options: {
  tenant: string;
  tier: string;
  fromMs: number;
  shares: { requests: number; rated: number; good: number };
}): FeedbackEvent[] {
  const { requests, rated, good } = options.shares;
  const verdicts: FeedbackEvent[] = [];
  for (let i = 0; i < requests; i++) {
    const ts = options.fromMs + Math.floor(((i + 0.5) * windowMs) / requests);
    const event: RequestEvent = {
      event_id: randomUUID(),
      ts,
      request_id: `rl-${randomUUID()}`,
      tenant: options.tenant,
      user_id: `u${i}`,
      route: "/v1/chat/completions",
      tier: options.tier,
      model: `tiergate-${options.tier}`,
      model_version: `${options.tier}@1`,
      provider: "openai-compatible",
      status: 200,
      cache: "MISS",
      fallback_reason: "",
      queue_ms: 1,
      ttft_ms: 10,
      latency_ms: 20,
      prompt_tokens: 10,
      completion_tokens: 10,
      task: "generate",
      confidence: 0.9,
      route_class: taskClass,
      route_success: { small: 0.8, medium: 0.9, large: 1 },
    };
    producer.publish(event);
    if (i < rated) {
      verdicts.push({
        feedback_id: randomUUID(),
        ts: ts + 1_000,
        request_id: event.request_id,
        tenant: options.tenant,
        user_id: event.user_id,
        rating: i < good ? 1 : -1,
        label: "",
        comment: "",
      });
    }
  }
  published += requests + verdicts.length;
  return verdicts;
}

const count = z.object({ n: z.number() });
async function ingested(): Promise<number> {
  const [events] = await ch.query("SELECT count() AS n FROM events FINAL", {}, count);
  const [verdicts] = await ch.query("SELECT count() AS n FROM feedback FINAL", {}, count);
  return (events?.n ?? 0) + (verdicts?.n ?? 0);
}

const shiftOf = async (tenant: string) =>
  (
    await database.db
      .select({ shift: routeAdjustments.shift })
      .from(routeAdjustments)
      .where(and(eq(routeAdjustments.tenant, tenant), eq(routeAdjustments.taskClass, taskClass)))
  )[0]?.shift ?? 0;

/** Per window: each tenant's traffic on the tier its class is routed to now, then one job run. */
const history: Record<string, ClassReport[]> = { [tenants.bad]: [], [tenants.good]: [] };
const windows = 6;
const base = baseTime(2);

beforeAll(async () => {
  await Promise.all([ensureKafka(), ensureClickHouse()]);
  await migratePostgres({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
  const admin = localClient("default");
  await migrateClickHouse(admin, chDatabase).finally(() => admin.close());
  const eventsTopic = await scratchTopic("routelearn-events", 3);
  const feedbackTopic = await scratchTopic("routelearn-feedback", 3);
  topicsMade.push(eventsTopic, feedbackTopic);
  producer = createEventProducer({
    brokers: localKafkaBrokers,
    topic: eventsTopic,
    spoolDir: `.stack/test-spool/routelearn-${run}`,
  });
  feedback = new FeedbackPublisher({ brokers: localKafkaBrokers, topic: feedbackTopic });
  ingest = startIngest({
    brokers: localKafkaBrokers,
    clickhouse: ch,
    groupId: `routelearn-${eventsTopic}`,
    sinks: [
      { topic: eventsTopic, table: "events", schema: requestEventSchema },
      { topic: feedbackTopic, table: "feedback", schema: feedbackEventSchema },
    ],
  });
  const deps = { db: database.db, clickhouse: ch, policy, windowMs, tenants: Object.values(tenants) };
  for (let j = 0; j < windows; j++) {
    const fromMs = base + j * windowMs;
    const verdicts: FeedbackEvent[] = [];
    // The bad tenant's small-tier answers are rated badly (4 of 15 good), above small they are fine;
    // the good tenant's small-tier answers are rated well (12 of 15) — between target and target + margin.
    const badTier = tiers[Math.min(2, await shiftOf(tenants.bad))] ?? "large";
    verdicts.push(
      ...publishWindow({
        tenant: tenants.bad,
        tier: badTier,
        fromMs,
        shares:
          badTier === "small" ? { requests: 20, rated: 15, good: 4 } : { requests: 20, rated: 15, good: 13 },
      }),
      ...publishWindow({
        tenant: tenants.good,
        tier: tiers[Math.min(2, await shiftOf(tenants.good))] ?? "large",
        fromMs,
        shares: { requests: 20, rated: 15, good: 12 },
      }),
    );
    await producer.flush();
    await feedback.publish(verdicts);
    await waitFor("window traffic in ClickHouse", async () => (await ingested()) === published, 60_000, 250);
    for (const report of await runRouteLearning(deps, fromMs + windowMs))
      history[report.tenant]?.push(report);
  }
}, 240_000);

afterAll(async () => {
  await ingest?.stop();
  await producer?.close();
  await feedback?.close();
  await ch.close();
  await dropDatabase(chDatabase);
  for (const topic of topicsMade) await deleteTopic(topic);
  await database.close();
});

describe("routing learns per tenant from feedback (Kafka → ClickHouse → job)", () => {
  it("a tenant whose small-tier answers are rated badly moves up within K windows, audited", async () => {
    const reports = history[tenants.bad] ?? [];
    expect(reports).toHaveLength(windows);
    const raisedAt = reports.findIndex((r) => r.action === "raise");
    expect(raisedAt).toBeGreaterThanOrEqual(0);
    expect(raisedAt + 1).toBeLessThanOrEqual(policy.consecutiveWindows);
    expect(reports[raisedAt]).toMatchObject({ tier: "small", shift: 1 });
    // Once on medium its ratings hold (13 of 15): no further change inside the run.
    expect(reports.filter((r) => r.action === "raise" || r.action === "lower")).toHaveLength(1);
    expect(await shiftOf(tenants.bad)).toBe(1);
    const audit = await database.db
      .select()
      .from(routingAudit)
      .where(and(eq(routingAudit.tenant, tenants.bad), eq(routingAudit.taskClass, taskClass)));
    expect(audit).toHaveLength(1);
    expect(audit[0]).toMatchObject({
      action: "raise_tier",
      fromValue: "0",
      toValue: "1",
      actor: "route-learning",
    });
  });

  it("a tenant with good ratings does not move, and one tenant's feedback never moves another", async () => {
    const reports = history[tenants.good] ?? [];
    expect(reports).toHaveLength(windows);
    expect(reports.every((r) => r.action === "none" && r.shift === 0 && r.tier === "small")).toBe(true);
    expect(await shiftOf(tenants.good)).toBe(0);
    const audit = await database.db
      .select()
      .from(routingAudit)
      .where(inArray(routingAudit.tenant, [tenants.good]));
    expect(audit).toHaveLength(0);
  });

  it("the router applies the learned shift to that tenant only, and says so in x-tiergate-route", async () => {
    const source = new RegistryDifficultySource(database.db, { intervalMs: 60_000 });
    await source.refresh();
    const router = testRouter(localTable(), { classifier: "learned", targetSuccess: 0.5 });
    router.difficulty = source;
    const request = { model: "auto", messages: [{ role: "user" as const, content: prompt }] };
    const bad = await router.decide(request, { ...context(), tenant: tenants.bad });
    const good = await router.decide(request, { ...context(), tenant: tenants.good });
    const order = tiers as readonly string[];
    expect(good.decision.shift).toBe(0);
    expect(bad.decision.shift).toBe(1);
    expect(order.indexOf(bad.decision.tier)).toBe(Math.min(2, order.indexOf(good.decision.tier) + 1));
    expect(formatDecision(bad.decision, bad.decision.tier)).toContain(`class=${taskClass}`);
    expect(formatDecision(bad.decision, bad.decision.tier)).toContain("feedback=+1");
    expect(formatDecision(good.decision, good.decision.tier)).not.toContain("feedback=");
  });

  it("workers follow the registry's active router model, audited", async () => {
    // The bundled weights under a new version: routing stays the same for everyone sharing the database.
    const version = `${bundledRouterModel().model.version}-registry-${run}`;
    await storeRouterModel(
      database.db,
      { ...bundledRouterModel().model, version },
      { activate: true, actor: "learning-test", reason: "registry pick-up test" },
    );
    const source = new RegistryDifficultySource(database.db, { intervalMs: 60_000 });
    await source.refresh();
    expect(source.model().model.version).toBe(version);
    const [row] = await database.db.select().from(routerModels).where(eq(routerModels.version, version));
    expect(row?.status).toBe("active");
    const audit = await database.db
      .select()
      .from(routingAudit)
      .where(and(eq(routingAudit.action, "activate_router_model"), eq(routingAudit.toValue, version)));
    expect(audit).toHaveLength(1);
    // Retired, workers go back to the bundled model (and the shared database is left as it was).
    expect(await retireActiveRouterModel(database.db, { actor: "learning-test", reason: "done" })).toBe(
      version,
    );
    await source.refresh();
    expect(source.model()).toBe(bundledRouterModel());
  });
});
