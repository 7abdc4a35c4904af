import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { repoRoot } from "../paths.ts";
import type { Fault } from "./server.ts";

/** A running fault proxy: its base URL and its controls. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>` — append `/v1` for the OpenAI SDK. */
  url: string;
  set(fault: Fault): Promise<void>;
  /** Requests that reached the data port since start or the last reset. */
  requests(): Promise<number>;
  resetStats(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts `test/stack/fault-proxy/server.ts` under Bun in front of `upstream` and waits until it listens. */
export async function startFaultProxy(upstream: string): Promise<FaultProxy> {
  const child: ChildProcess = spawn(
    join(repoRoot, "node_modules", ".bin", "bun"),
    [join(repoRoot, "test", "stack", "fault-proxy", "server.ts"), `--upstream=${upstream}`],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  const ports = await new Promise<{ port: number; controlPort: number }>((resolve, reject) => {
    const lines = createInterface({ input: child.stdout as NodeJS.ReadableStream });
    lines.once("line", (line) => resolve(JSON.parse(line) as { port: number; controlPort: number }));
    child.once("exit", (code) => reject(new Error(`fault proxy exited with ${code}`)));
  });
  const control = `http://127.0.0.1:${ports.controlPort}`;
  const post = async (path: string, body: unknown) => {
    const response = await fetch(`${control}${path}`, { method: "POST", body: JSON.stringify(body) });
    if (!response.ok) throw new Error(`fault proxy ${path}: HTTP ${response.status}`);
  };
  return {
    url: `http://127.0.0.1:${ports.port}`,
    set: (fault) => post("/fault", fault),
    async requests() {
      const stats = (await (await fetch(`${control}/stats`)).json()) as { requests: number };
      return stats.requests;
    },
    resetStats: () => post("/reset-stats", {}),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once("exit", resolve));
      child.kill("SIGTERM");
      await exited;
    },
  };
}
