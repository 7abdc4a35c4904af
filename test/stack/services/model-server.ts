import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { allWeights, ensureWeights } from "../model-server/weights.ts";
import { dataDir, repoRoot } from "../paths.ts";
import { host, ports } from "../ports.ts";
import {
  isAlive,
  logFile,
  MissingPieceError,
  pidFile,
  readPid,
  sleep,
  spawnDaemon,
  stopDaemon,
  tcpOpen,
} from "../process.ts";
import type { StackService } from "../service.ts";

const name = "model-server";
const url = `http://${host}:${ports.modelServer}`;
const bunBinary = join(repoRoot, "node_modules", ".bin", "bun");
const serverScript = join(repoRoot, "test", "stack", "model-server", "server.ts");
/** Loading both models takes about 2 s on an idle machine; a busy CI machine gets plenty more. */
const startTimeoutMs = 120_000;
const portReleaseTimeoutMs = 10_000;

async function healthy(): Promise<boolean> {
  try {
    const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok) return false;
    const body = (await response.json()) as { status?: unknown };
    return body.status === "ok";
  } catch {
    return false;
  }
}

function logTail(): string {
  const file = logFile(name);
  if (!existsSync(file)) return "(no log)";
  return readFileSync(file, "utf8").split("\n").slice(-15).join("\n");
}

async function waitUntil(check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(100);
  }
  return false;
}

/** Waits until both models are loaded; fails fast with the log's tail when the process dies first. */
async function waitHealthy(pid: number): Promise<void> {
  const deadline = Date.now() + startTimeoutMs;
  while (Date.now() < deadline) {
    if (await healthy()) return;
    if (!isAlive(pid)) throw new Error(`model server exited during start; ${logFile(name)}:\n${logTail()}`);
    await sleep(200);
  }
  throw new Error(`model server did not load its models within ${startTimeoutMs} ms; see ${logFile(name)}`);
}

/** Checks the runtime pieces from npm, then fetches and verifies the weights into `.stack/models`. */
async function install(): Promise<void> {
  const npmPieces: [string, string][] = [
    [bunBinary, "bun (node_modules/.bin/bun)"],
    [join(repoRoot, "node_modules", "node-llama-cpp", "dist"), "node-llama-cpp"],
    [join(repoRoot, "node_modules", "onnxruntime-web", "dist"), "onnxruntime-web"],
  ];
  for (const [path, piece] of npmPieces) {
    if (!existsSync(path)) {
      throw new MissingPieceError(piece, "Run `npm ci` in the repository; it is a pinned dependency.");
    }
  }
  for (const weights of allWeights) await ensureWeights(weights);
}

async function start(): Promise<void> {
  if (await healthy()) return;
  const running = readPid(name);
  if (running !== undefined && isAlive(running)) {
    // Still loading from an earlier call, or hung: give it the usual time, then replace it.
    if (await waitUntil(healthy, startTimeoutMs)) return;
    await stop();
  }
  if (await tcpOpen(ports.modelServer)) {
    throw new Error(`port ${ports.modelServer} is taken by something that is not a healthy model server`);
  }
  const pid = spawnDaemon({
    name,
    command: bunBinary,
    args: [serverScript, `--port=${ports.modelServer}`, `--host=${host}`],
    cwd: repoRoot,
  });
  await waitHealthy(pid);
}

async function stop(): Promise<void> {
  await stopDaemon(name, 10_000);
  rmSync(pidFile(name), { force: true });
  if (!(await waitUntil(async () => !(await tcpOpen(ports.modelServer)), portReleaseTimeoutMs))) {
    throw new Error(`model server stopped but port ${ports.modelServer} is still open`);
  }
}

async function restart(): Promise<void> {
  await stop();
  await start();
}

/** The server keeps no data; the verified weights in `.stack/models` stay cached (delete that folder to refetch). */
async function reset(): Promise<void> {
  await stop();
  rmSync(join(dataDir, name), { recursive: true, force: true });
}

/**
 * The local stand-in for vLLM: OpenAI-compatible chat, completions and embeddings over SmolLM2-135M-Instruct
 * (GGUF, llama.cpp) and all-MiniLM-L6-v2 (ONNX), with vLLM's Prometheus gauges. `restart` keeps the weights.
 */
export const modelServerService: StackService & { restart(): Promise<void> } = {
  name,
  url,
  install,
  start,
  stop,
  healthy,
  reset,
  restart,
};

/** How clients reach the local model server with the `openai` SDK. */
export const localModelServer = {
  baseURL: `${url}/v1`,
  apiKey: "tiergate-local",
  chatModels: ["tiergate-small", "tiergate-medium", "tiergate-large"],
  embeddingModel: "tiergate-embed",
} as const;
