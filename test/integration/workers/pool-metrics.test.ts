import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestPool, type TestPool } from "../router/pool-harness.ts";

const workers = 3;
let pool: TestPool;

beforeAll(async () => {
  pool = await startTestPool(18_093, { POOL_PROCESSES: String(workers) });
  // Every worker must be listening before the load below, or the port's early takers get it all.
  await waitForWorkers();
}, 60_000);
afterAll(async () => {
  await pool?.stop();
});

async function scrape(): Promise<string> {
  const response = await fetch(`${pool.url}/metrics`);
  expect(response.status).toBe(200);
  return response.text();
}

/** `name{labels} value` lines of one metric, with their labels parsed. */
function samples(text: string, name: string): { labels: Record<string, string>; value: number }[] {
  return text
    .split("\n")
    .filter((line) => line.startsWith(`${name}{`))
    .map((line) => {
      const close = line.lastIndexOf("}");
      const labels = Object.fromEntries(
        [...line.slice(name.length + 1, close).matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]),
      );
      return { labels, value: Number(line.slice(close + 2)) };
    });
}

function gauge(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return Number(line?.slice(name.length + 1));
}

async function waitForWorkers(): Promise<void> {
  for (let i = 0; i < 100; i++) {
    if (gauge(await scrape(), "tiergate_pool_workers_scraped") === workers) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error("not every worker answered the metrics gather");
}

describe("pool /metrics covers every worker", () => {
  it("each scrape, whichever worker answers it, holds every worker's series", async () => {
    for (let i = 0; i < 8; i++) {
      const text = await scrape();
      expect(gauge(text, "tiergate_pool_workers_scraped")).toBe(workers);
      expect(gauge(text, "tiergate_pool_workers_expected")).toBe(workers);
      const seen = new Set(samples(text, "tiergate_in_flight_requests").map((s) => s.labels.worker));
      expect([...seen].sort()).toEqual(["1", "2", "3"]);
      // HELP and TYPE once per metric, as Prometheus requires.
      expect(text.split("\n").filter((l) => l === "# TYPE tiergate_in_flight_requests gauge")).toHaveLength(
        1,
      );
    }
  });

  it("summing a counter over `worker` in one scrape counts requests served by every worker", async () => {
    const count = (text: string) =>
      samples(text, "http_request_duration_seconds_count")
        .filter((s) => s.labels.route === "/health")
        .reduce((sum, s) => sum + s.value, 0);
    const before = count(await scrape());
    const sent = 300;
    // New connections each time, so SO_REUSEPORT spreads them across the workers.
    await Promise.all(
      Array.from({ length: sent }, () =>
        fetch(`${pool.url}/health`, { headers: { connection: "close" } }).then((r) => r.arrayBuffer()),
      ),
    );
    const text = await scrape();
    expect(count(text) - before).toBe(sent);
    const perWorker = samples(text, "http_request_duration_seconds_count").filter(
      (s) => s.labels.route === "/health",
    );
    expect(new Set(perWorker.map((s) => s.labels.worker)).size).toBeGreaterThan(1);
  });
});
