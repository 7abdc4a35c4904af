import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { formatAllowedModels, signedHeaders } from "../../../shared/signing.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot, stackDir } from "../../stack/paths.ts";
import { redisService } from "../../stack/services/redis.ts";

// Two pool worker processes of one region (each `bun workers/pool/worker.ts`, as the supervisor runs
// them), on their own ports so a test can address each one, sharing the stack's Redis.
const env = localPoolEnv();
const ports = [18_141, 18_142] as const;
const workers = new Map<number, ChildProcess>();
const path = "/internal/v1/models";

async function startWorker(port: number): Promise<void> {
  const child = spawn(join(repoRoot, "node_modules/.bin/bun"), ["workers/pool/worker.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...env,
      POOL_PORT: String(port),
      SPOOL_DIR: join(stackDir, `spool-test-${port}`),
      REGISTRY_SOURCE: "env",
    },
    stdio: "ignore",
  });
  workers.set(port, child);
  for (let i = 0; i < 300; i++) {
    const ok = await fetch(`http://127.0.0.1:${port}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (child.exitCode !== null) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`worker on ${port} did not start`);
}

async function stopWorker(port: number): Promise<void> {
  const child = workers.get(port);
  if (!child || child.exitCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  await exited;
}

/** One signed call's headers, exactly as the edge would send them. */
function signCall(): Promise<Record<string, string>> {
  return signedHeaders(env.POOL_SIGNING_SECRET, {
    method: "GET",
    pathAndQuery: path,
    body: "",
    headers: {
      [headers.requestId]: `nonce-test-${crypto.randomUUID()}`,
      [headers.tenant]: "nonce-tests",
      [headers.keyId]: "key_nonce_tests",
      [headers.allowedModels]: formatAllowedModels(null),
      [headers.deadline]: String(Date.now() + 30_000),
    },
  });
}

async function send(port: number, signed: Record<string, string>) {
  const response = await fetch(`http://127.0.0.1:${port}${path}`, { headers: signed });
  const body = (await response.json()) as { error?: { code: string; message: string } };
  return { status: response.status, error: body.error, retryAfter: response.headers.get("retry-after") };
}

beforeAll(async () => {
  await redisService.start();
  await Promise.all(ports.map(startWorker));
});
afterAll(async () => {
  await redisService.start();
  await Promise.all(ports.map(stopWorker));
});

describe("replay protection shared by every worker of a region", () => {
  it("a signed call is accepted once: not again by another worker, nor by a restarted one", async () => {
    const [a, b] = ports;
    const call = await signCall();
    expect((await send(a, call)).status).toBe(200);

    const onOther = await send(b, call);
    expect(onOther.status).toBe(401);
    expect(onOther.error?.message).toBe("Replayed request.");

    await stopWorker(a);
    await startWorker(a);
    const afterRestart = await send(a, call);
    // Still inside the ±30 s window (else the message would say the signature is stale).
    expect(afterRestart.status).toBe(401);
    expect(afterRestart.error?.message).toBe("Replayed request.");

    // A fresh call still goes through on both: the refusals were replays, nothing else.
    expect((await send(a, await signCall())).status).toBe(200);
    expect((await send(b, await signCall())).status).toBe(200);
  });

  it("with Redis stopped the pool fails closed (503, retryable), and recovers by itself when it returns", async () => {
    const [a, b] = ports;
    await redisService.stop();
    try {
      for (const port of [a, b]) {
        const down = await send(port, await signCall());
        expect(down.status).toBe(503);
        expect(down.retryAfter).toBe("1");
        expect(down.error?.code).toBe("upstream_unavailable");
      }
    } finally {
      await redisService.start();
    }
    for (const port of [a, b]) {
      let status = 0;
      for (let i = 0; i < 100 && status !== 200; i++) {
        status = (await send(port, await signCall())).status;
        if (status !== 200) await new Promise((r) => setTimeout(r, 200));
      }
      expect(status).toBe(200);
    }
  });
});
