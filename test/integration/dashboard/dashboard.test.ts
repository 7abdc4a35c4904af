import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import type { RequestEvent } from "../../../shared/events.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { migrateClickHouse } from "../../../workers/clickhouse/migrate.ts";
import { EventProducer } from "../../../workers/events/producer.ts";
import { stackDir } from "../../stack/paths.ts";
import { aptInstall, waitFor } from "../../stack/process.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { ensureClickHouse, sampleEvent } from "../clickhouse/local-clickhouse.ts";
import { ensureKafka, localKafkaBrokers } from "../events/local-kafka.ts";
import { PoolUnderTest } from "../events/pool-under-test.ts";

const chromiumPath = "/usr/bin/chromium";
const token = "dashboard-test-token-0123456789";
const pool = new PoolUnderTest(18_086, "dashboard-test", { DASHBOARD_TOKEN: token });
const tenant = `dashboard-${Date.now()}`;
const driftVersion = `dashboard-test-${Date.now()}`;
const clickhouse = createClickHouse({ ...localClickHouse, database: pool.env.CLICKHOUSE_DATABASE });
const resultsDir = join(stackDir, "results");
const charts = [
  "chart-latency",
  "chart-rps",
  "chart-cache",
  "chart-fallback",
  "chart-abstention",
  "chart-errors",
  "chart-ttft",
  "chart-drift",
  "chart-tiers",
  "chart-cost",
];
let browser: BrowserContext | undefined;
const userDataDir = mkdtempSync(join(tmpdir(), "tiergate-chromium-"));

/**
 * Events over the last 10 minutes in three tiers, with cache hits, fallbacks of two reasons, RAG
 * abstentions and shed (503) requests.
 */
function seedEvents(): RequestEvent[] {
  const now = Date.now();
  const tiers = ["small", "medium", "large"] as const;
  return Array.from({ length: 600 }, (_, i) => {
    const tier = tiers[i % 3] ?? "small";
    return sampleEvent({
      tenant,
      ts: now - (i % 10) * 60_000 - (i % 50) * 100,
      user_id: `user-${i % 23}`,
      tier,
      model: `tiergate-${tier}`,
      cache: i % 4 === 0 ? "HIT" : "MISS",
      fallback_reason:
        i % 10 === 0 ? "upstream_timeout" : i % 15 === 0 ? "overloaded" : i % 14 === 0 ? "no_context" : "",
      status: i % 15 === 0 ? 503 : 200,
      latency_ms: 50 + (i % 40) * 20 * (tier === "large" ? 3 : 1),
      ttft_ms: 10 + (i % 30) * 5,
      prompt_tokens: 100 + (i % 7) * 10,
      completion_tokens: 50 + (i % 5) * 20,
    });
  });
}

describe("dashboard in headless Chromium", () => {
  beforeAll(async () => {
    if (!existsSync(chromiumPath)) await aptInstall("chromium (dashboard test)", ["chromium"]);
    await Promise.all([ensureKafka(), ensureClickHouse()]);
    const admin = createClickHouse({ ...localClickHouse, database: "default" });
    await migrateClickHouse(admin, pool.env.CLICKHOUSE_DATABASE).finally(() => admin.close());
    await pool.start();
  }, 600_000);
  afterAll(async () => {
    await browser?.close();
    await pool.stop();
    await clickhouse
      .command("ALTER TABLE drift_scores DELETE WHERE model_version = {v:String}", { v: driftVersion })
      .catch(() => undefined);
    await clickhouse.close();
    rmSync(userDataDir, { recursive: true, force: true });
  });

  it("draws every chart from a seeded run and saves a screenshot", async () => {
    // Seed through the real pipeline: requests answered by the pool, and events produced to Kafka,
    // both ingested into ClickHouse by the pool's ingest process.
    const answered = (
      await Promise.all(Array.from({ length: 20 }, (_, i) => pool.chat(tenant, `${tenant}-${i}`, `hi ${i}`)))
    ).filter((s) => s === 200).length;
    expect(answered).toBe(20);
    const spoolDir = mkdtempSync(join(tmpdir(), "tiergate-dashboard-spool-"));
    const producer = await EventProducer.create({ brokers: localKafkaBrokers, spoolDir });
    const seeded = seedEvents();
    for (const e of seeded) producer.publish(e);
    await producer.close();
    rmSync(spoolDir, { recursive: true, force: true });
    const total = seeded.length + answered;
    const count = z.object({ n: z.number() });
    await waitFor(
      "seeded events in ClickHouse",
      async () => {
        const [row] = await clickhouse.query(
          "SELECT count() AS n FROM events FINAL WHERE tenant = {tenant:String}",
          { tenant },
          count,
        );
        return (row?.n ?? 0) >= total;
      },
      90_000,
      250,
    );
    // The drift job does not exist yet: its table gets a few scores by hand.
    await clickhouse.insert(
      "drift_scores",
      ["small", "medium", "large"].flatMap((tier, t) =>
        Array.from({ length: 6 }, (_, i) => ({
          ts: Date.now() - i * 5 * 60_000,
          tier,
          model_version: driftVersion,
          score: 0.05 * (t + 1) + 0.01 * i,
          components: { kl: 0.01 * i, feedback: 0.02 * t },
        })),
      ),
    );

    // A fresh profile (the user data dir) per run; playwright passes it as --user-data-dir.
    browser = await chromium.launchPersistentContext(userDataDir, {
      executablePath: chromiumPath,
      headless: true,
      viewport: { width: 1400, height: 1300 },
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
      ],
    });
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));

    const urls: string[] = [];
    page.on("request", (request) => urls.push(request.url()));

    const denied = await page.goto(`${pool.url}/dashboard`);
    expect(denied?.status()).toBe(401); // the token is required: the login form answers
    const viaQuery = await browser.request.get(`${pool.url}/dashboard/api/stats?token=${token}`);
    expect(viaQuery.status()).toBe(401); // a token in the URL is not accepted

    await page.fill("input[name=token]", token);
    await Promise.all([page.waitForURL(`${pool.url}/dashboard`), page.click("button[type=submit]")]);
    const [session] = await browser.cookies(`${pool.url}/dashboard`);
    expect(session).toMatchObject({ name: "tiergate_dashboard", httpOnly: true, sameSite: "Strict" });
    expect(session?.value).not.toContain(token);

    await page.goto(`${pool.url}/dashboard?window=1h&tenant=${tenant}`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 30_000 });
    const drawn = await page.evaluate(
      () =>
        (globalThis as unknown as { tiergateDashboard: { drawn: Record<string, number> } }).tiergateDashboard
          .drawn,
    );
    for (const id of charts) expect(drawn[id], id).toBeGreaterThan(0);

    // Each canvas really has ink on it (not just a chart object).
    const inked = await page.evaluate((ids: string[]) => {
      return ids.map((id) => {
        const canvas = document.getElementById(id) as HTMLCanvasElement;
        const data = canvas.getContext("2d")?.getImageData(0, 0, canvas.width, canvas.height).data ?? [];
        let painted = 0;
        for (let i = 3; i < data.length; i += 4) if ((data[i] ?? 0) > 0) painted++;
        return painted;
      });
    }, charts);
    for (const painted of inked) expect(painted).toBeGreaterThan(1_000);
    // The status line shows what the per-minute view holds. Kafka delivers at least once, and an event
    // redelivered in another batch (a consumer-group rebalance while other pools start and stop) is
    // counted twice by the view (events FINAL is exact): every event is there, perhaps one twice.
    const [viewed] = await clickhouse.query(
      "SELECT countMerge(requests) AS n FROM request_stats_1m WHERE tenant = {tenant:String}",
      { tenant },
      count,
    );
    expect(viewed?.n ?? 0).toBeGreaterThanOrEqual(total);
    expect(await page.textContent("#status")).toContain(`${viewed?.n} requests`);
    expect(errors).toEqual([]);
    // The token never travelled in a URL the browser requested.
    expect(urls.length).toBeGreaterThan(0);
    expect(urls.filter((url) => url.includes(token))).toEqual([]);

    mkdirSync(resultsDir, { recursive: true });
    await page.screenshot({ path: join(resultsDir, "dashboard.png"), fullPage: true });

    // A tenant with no data: every panel says so instead of drawing empty axes.
    await page.goto(`${pool.url}/dashboard?window=1h&tenant=${tenant}-nobody`);
    await page.waitForSelector("body[data-ready='1']", { timeout: 30_000 });
    const notes = await page.evaluate(
      (ids: string[]) =>
        ids.map((id) => {
          const canvas = document.getElementById(id) as HTMLCanvasElement;
          const note = canvas.parentElement?.querySelector(".empty") as HTMLElement | null;
          return { canvasHidden: canvas.hidden, noteShown: note !== null && !note.hidden };
        }),
      charts.filter((id) => id !== "chart-drift"), // drift scores are not per tenant
    );
    for (const note of notes) expect(note).toEqual({ canvasHidden: true, noteShown: true });
    expect(errors).toEqual([]);
  }, 300_000);
});
