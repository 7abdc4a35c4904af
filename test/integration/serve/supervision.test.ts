import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { signedHeaders } from "../../../shared/signing.ts";
import { poolService } from "../../stack/gateway.ts";
import { stackDir } from "../../stack/paths.ts";
import { localSecrets } from "../../stack/ports.ts";
import { startPrivateEdge } from "../../stack/private-edge.ts";
import { childProcesses, isAlive, logFile, readPid, stopDaemon, waitFor } from "../../stack/process.ts";

/**
 * `npm start`'s supervision: a private edge supervisor (own ports, a cron every 3 s so the test need not
 * wait ten minutes) in front of the stack's pool, and the pool supervisor's children.
 */
const name = "serve-test-edge";
const edgePort = 18_791;
const metricsPort = 18_792;
const cron = "*/3 * * * * *";
const edgeUrl = `http://127.0.0.1:${edgePort}`;

async function healthy(url: string): Promise<boolean> {
  const response = await fetch(url, { signal: AbortSignal.timeout(1_000) });
  return response.ok;
}

async function metricValue(url: string, series: string): Promise<number> {
  const text = await (await fetch(url, { signal: AbortSignal.timeout(2_000) })).text();
  const line = text.split("\n").find((l) => l.startsWith(series));
  return line ? Number(line.slice(series.length).trim()) : 0;
}

const supervisorMetrics = `http://127.0.0.1:${metricsPort}/metrics`;
const cronOk = `tiergate_edge_cron_runs_total{cron="${cron}",outcome="ok"}`;

function workerdPid(): number {
  const supervisor = readPid(name);
  const child = childProcesses(supervisor ?? -1).find((c) => c.command.includes("workerd"));
  if (!child) throw new Error("the edge supervisor has no workerd child");
  return child.pid;
}

/** The pool's drift lease holder, read with the edge's admin credential. */
async function driftLeaseHolder(): Promise<string> {
  const path = "/internal/v1/drift/status";
  const response = await fetch(`${poolService.url}${path}`, {
    headers: await signedHeaders(localSecrets.adminSecrets["edge-cron"], {
      method: "GET",
      pathAndQuery: path,
      body: "",
      headers: {},
      credential: "edge-cron",
    }),
  });
  const status = (await response.json()) as { lease: { holder: string } | null };
  return status.lease?.holder ?? "";
}

async function waitForCronRun(after: number): Promise<void> {
  await waitFor("edge cron", async () => (await metricValue(supervisorMetrics, cronOk)) > after, 30_000, 200);
}

beforeAll(async () => {
  await poolService.stop();
  await poolService.start();
  await startPrivateEdge({ name, port: edgePort, metricsPort, crons: cron });
});

afterAll(async () => {
  await stopDaemon(name, 10_000);
});

describe("npm start's edge supervisor", () => {
  it("serves the deploy bundle in workerd serve with the fd limit raised to the hard limit", async () => {
    const limits = readFileSync(`/proc/${workerdPid()}/limits`, "utf8");
    const [soft, hard] = (/Max open files\s+(\S+)\s+(\S+)/.exec(limits) ?? []).slice(1);
    expect(soft).toBe(hard);
    const cap = await metricValue(supervisorMetrics, "tiergate_edge_max_concurrency");
    expect(cap).toBeGreaterThan(0);
    expect(cap).toBeLessThan(Number(soft));
  });

  it("drives wrangler.toml-style crons into the edge's scheduled handler, which runs the pool's drift job", async () => {
    await waitForCronRun(0);
    await waitFor(
      "drift lease",
      async () => (await driftLeaseHolder()).startsWith(`cron:${cron}@`),
      30_000,
      200,
    );
    expect(await driftLeaseHolder()).toMatch(/^cron:\*\/3 \* \* \* \* \*@\d+#/);
  });

  it("keeps the trigger off the public port: only an owner-only Unix socket reaches it", async () => {
    for (const path of ["/__scheduled", "/cdn-cgi/handler/scheduled", "/cdn-cgi/mf/scheduled"]) {
      const response = await fetch(`${edgeUrl}${path}?cron=${encodeURIComponent(cron)}`, { method: "POST" });
      expect(response.status).toBeGreaterThanOrEqual(400);
      expect(response.status).toBeLessThan(500);
    }
    const dir = join(stackDir, "edge-serve", name);
    expect(statSync(dir).mode & 0o077).toBe(0);
    expect(statSync(join(dir, "cron.sock")).isSocket()).toBe(true);
  });

  it("restarts a killed workerd, counts it in /metrics, and the cron keeps firing", async () => {
    const before = workerdPid();
    const restarts = await metricValue(supervisorMetrics, "tiergate_edge_restarts_total");
    process.kill(before, "SIGKILL");
    await waitFor(
      "edge restart",
      async () => !isAlive(before) && (await healthy(`${edgeUrl}/health`)),
      30_000,
    );
    expect(workerdPid()).not.toBe(before);
    expect(await metricValue(supervisorMetrics, "tiergate_edge_restarts_total")).toBe(restarts + 1);
    expect(readFileSync(logFile(name), "utf8")).toContain("workerd exited; restarting");
    const runs = await metricValue(supervisorMetrics, cronOk);
    await waitForCronRun(runs);
  });
});

describe("the pool supervisor", () => {
  /** Any worker answers /metrics: each reports the supervisor's counts (IPC), so any one will do. */
  async function restartCounted(child: RegExp): Promise<boolean> {
    const text = await (await fetch(`${poolService.url}/metrics`)).text();
    return text
      .split("\n")
      .some(
        (line) =>
          line.startsWith("tiergate_pool_child_restarts{") && child.test(line) && / [1-9]\d*$/.test(line),
      );
  }

  for (const [script, child] of [
    ["worker.ts", /child="worker-\d+"/],
    ["ingest.ts", /child="ingest"/],
  ] as const) {
    it(`restarts a killed ${script} process and counts it on /metrics`, async () => {
      const supervisor = readPid("pool") ?? -1;
      const victim = childProcesses(supervisor).find((c) => c.command.includes(script));
      expect(victim).toBeDefined();
      const before = childProcesses(supervisor).length;
      process.kill(victim?.pid ?? -1, "SIGKILL");
      await waitFor(
        `${script} restart`,
        async () => {
          const now = childProcesses(supervisor);
          return now.length === before && !now.some((c) => c.pid === victim?.pid);
        },
        30_000,
      );
      await waitFor("pool ready", () => healthy(`${poolService.url}/ready`), 30_000);
      await waitFor(`${script} restart count`, () => restartCounted(child), 30_000, 200);
    });
  }
});
