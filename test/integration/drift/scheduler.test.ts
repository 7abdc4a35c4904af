import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../../workers/db/client.ts";
import { driftLeaseName } from "../../../workers/drift/job.ts";
import { readLease, releaseLease, tryAcquireLease } from "../../../workers/drift/lease.ts";
import {
  type DriftSchedulerOptions,
  startDriftScheduler,
  triggerDriftRun,
} from "../../../workers/drift/scheduler.ts";
import { workerEnvSchema } from "../../../workers/env.ts";
import { poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { eventually } from "../router/harness.ts";

const config = workerEnvSchema.parse(localPoolEnv());
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
const options: DriftSchedulerOptions = {
  poolUrl: `http://${config.POOL_HOST}:${config.POOL_PORT}`,
  signingSecret: config.POOL_SIGNING_SECRET,
  periodMs: 200,
};

beforeAll(async () => {
  await poolService.start();
});
afterAll(async () => {
  await database.close();
});

describe("Bun-side drift scheduler", () => {
  it("asks the pool to run the drift job on its period, signed like the edge", async () => {
    const startedAt = Date.now();
    const results: number[] = [];
    const stop = startDriftScheduler({ ...options, onResult: (status) => results.push(status) });
    try {
      const lease = await eventually(async () => {
        const row = await readLease(database.db, driftLeaseName);
        const at = Number(row?.holder.match(/^scheduler@(\d+)#/)?.[1] ?? 0);
        return at >= startedAt ? row : undefined;
      });
      expect(lease.holder).toMatch(/^scheduler@\d+#[0-9a-f-]{36}$/);
    } finally {
      stop();
    }
    expect(results.every((status) => status === 200)).toBe(true);
  });

  it("while another trigger holds the lease, a run through the pool is skipped", async () => {
    const holder = `test-holder-${Date.now()}`;
    // Another trigger's run in progress (held briefly: the real lease, shared with the cron).
    const held = await eventually(async () =>
      (await tryAcquireLease(database.db, driftLeaseName, holder, 30_000)) ? true : undefined,
    );
    expect(held).toBe(true);
    try {
      const response = await triggerDriftRun(options, Date.now());
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ran: false, skipped: "lease held" });
    } finally {
      await releaseLease(database.db, driftLeaseName, holder);
    }
    const after = await triggerDriftRun(options, Date.now());
    expect(((await after.json()) as { ran: boolean }).ran).toBe(true);
  });
});
