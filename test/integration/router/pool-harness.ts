import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { headers } from "../../../shared/headers.ts";
import { signedHeaders, trustedHeaders } from "../../../shared/signing.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot, stackDir } from "../../stack/paths.ts";
import { localSecrets } from "../../stack/ports.ts";

/** A real pool (`bun workers/pool/supervisor.ts`, one worker) on its own port with extra environment. */
export interface TestPool {
  url: string;
  /** A signed call, as the edge makes it. */
  call(
    method: "GET" | "POST",
    path: string,
    body?: unknown,
    extra?: Record<string, string>,
  ): Promise<Response>;
  stop(): Promise<void>;
}

const adminPath = /^\/internal\/v1\/(registry|drift|routing)(\/|$)/;

export async function startTestPool(port: number, env: Record<string, string>): Promise<TestPool> {
  const base = localPoolEnv();
  const child: ChildProcess = spawn(join(repoRoot, "node_modules/.bin/bun"), ["workers/pool/supervisor.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...base,
      POOL_PORT: String(port),
      POOL_PROCESSES: "1",
      SPOOL_DIR: join(stackDir, `spool-test-${port}`),
      ...env,
    },
    stdio: "ignore",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    const ok = await fetch(`${url}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (child.exitCode !== null || i > 300) throw new Error(`test pool on ${port} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    async call(method, path, body, extra = {}) {
      const text = body === undefined ? "" : JSON.stringify(body);
      // Trusted headers travel signed, as the edge sends them; any other extra header as is.
      const trusted: Record<string, string> = { [headers.tenant]: "router-tests" };
      const plain: Record<string, string> = {};
      for (const [name, value] of Object.entries(extra)) {
        if ((trustedHeaders as readonly string[]).includes(name.toLowerCase()))
          trusted[name.toLowerCase()] = value;
        else plain[name] = value;
      }
      return fetch(`${url}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          ...plain,
          // Registry, drift and routing-learning routes take an admin credential, the rest the traffic secret.
          ...(await signedHeaders(
            adminPath.test(path) ? localSecrets.adminSecrets.ops : base.POOL_SIGNING_SECRET,
            {
              method,
              pathAndQuery: path,
              body: text,
              headers: trusted,
              ...(adminPath.test(path) ? { credential: "ops" } : {}),
            },
          )),
        },
        ...(method === "POST" ? { body: text } : {}),
      });
    },
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
