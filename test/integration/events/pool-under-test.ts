import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { headers } from "../../../shared/headers.ts";
import { signedHeaders } from "../../../shared/signing.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot, stackDir } from "../../stack/paths.ts";

/**
 * A pool of its own (`bun workers/pool/supervisor.ts`: one worker unless `POOL_PROCESSES` is given, + the ingest
 * process) on a private port and spool,
 * so a test can watch its events without other tests' traffic on the shared pool. Its model tiers point
 * at an instant OpenAI-compatible upstream on `port + 1000` (test/bench/instant-upstream.ts), so the
 * request rate is set by the event pipeline, not by the CPU model server; routing comes from the env.
 */
export class PoolUnderTest {
  readonly url: string;
  readonly env: ReturnType<typeof localPoolEnv> & Record<string, string>;
  #child: ChildProcess | undefined;
  #upstream: ChildProcess | undefined;

  constructor(
    readonly port: number,
    readonly name: string,
    extraEnv: Record<string, string> = {},
  ) {
    this.url = `http://127.0.0.1:${port}`;
    this.env = {
      ...localPoolEnv(),
      REGISTRY_SOURCE: "env",
      ROUTER_CLASSIFIER: "heuristic",
      LOCAL_MODEL_BASE_URL: `http://127.0.0.1:${port + 1000}/v1`,
      ...extraEnv,
    };
  }

  get spoolDir(): string {
    return join(stackDir, `spool-${this.name}`);
  }

  async start(): Promise<void> {
    rmSync(this.spoolDir, { recursive: true, force: true });
    this.#upstream = spawn(
      join(repoRoot, "node_modules/.bin/bun"),
      ["test/bench/instant-upstream.ts", String(this.port + 1000)],
      { cwd: repoRoot, stdio: "ignore" },
    );
    this.#child = spawn(join(repoRoot, "node_modules/.bin/bun"), ["workers/pool/supervisor.ts"], {
      cwd: repoRoot,
      env: {
        ...process.env,
        ...this.env,
        POOL_PORT: String(this.port),
        POOL_PROCESSES: this.env.POOL_PROCESSES ?? "1",
        SPOOL_DIR: this.spoolDir,
      },
      stdio: "ignore",
    });
    for (let i = 0; i < 300; i++) {
      const ok = await fetch(`${this.url}/health`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`pool ${this.name} did not start`);
  }

  /** SIGTERM (drain, flush events) and wait; SIGKILL after 30 s. */
  async stop(): Promise<void> {
    if (this.#upstream?.exitCode === null) this.#upstream.kill("SIGKILL");
    const child = this.#child;
    if (!child || child.exitCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    await exited;
    clearTimeout(timer);
  }

  /** A chat completion signed like the edge signs it; returns the HTTP status (0: no connection). */
  async chat(tenant: string, requestId: string, content: string): Promise<number> {
    const path = "/internal/v1/chat/completions";
    const body = JSON.stringify({
      model: "auto",
      max_tokens: 8,
      user: `user-${requestId.length % 7}`,
      messages: [{ role: "user", content }],
    });
    try {
      const response = await fetch(`${this.url}${path}`, {
        method: "POST",
        body,
        headers: {
          "content-type": "application/json",
          ...(await signedHeaders(this.env.POOL_SIGNING_SECRET, {
            method: "POST",
            pathAndQuery: path,
            body,
            headers: {
              [headers.requestId]: requestId,
              [headers.tenant]: tenant,
              [headers.deadline]: String(Date.now() + 30_000),
            },
          })),
        },
        signal: AbortSignal.timeout(30_000),
      });
      await response.arrayBuffer();
      return response.status;
    } catch {
      return 0;
    }
  }
}

/**
 * Sends requests with `concurrency` loops until `stop()` is called; collects the request ids the pool
 * answered with 200 (each must become exactly one event). Request ids are `<tenant>-<n>` from `firstSequence` on.
 */
export function requestFlow(pool: PoolUnderTest, tenant: string, concurrency = 4, firstSequence = 0) {
  const answered: string[] = [];
  const failed: number[] = [];
  let running = true;
  let sequence = firstSequence;
  const loops = Array.from({ length: concurrency }, async () => {
    while (running) {
      const id = `${tenant}-${sequence++}`;
      const status = await pool.chat(tenant, id, `event pipeline ${id}`);
      if (status === 200) answered.push(id);
      else failed.push(status);
    }
  });
  return {
    answered,
    failed,
    /** Requests answered so far. */
    count: () => answered.length,
    async stop(): Promise<void> {
      running = false;
      await Promise.all(loops);
    },
  };
}
