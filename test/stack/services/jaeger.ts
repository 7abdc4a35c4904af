import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import { repoRoot, stackDir } from "../paths.ts";
import { host, ports } from "../ports.ts";
import {
  hasCommand,
  isAlive,
  MissingPieceError,
  readPid,
  run,
  spawnDaemon,
  stopDaemon,
  tcpOpen,
  waitFor,
} from "../process.ts";
import type { StackService } from "../service.ts";

const name = "jaeger";
const moduleDir = join(repoRoot, "test", "stack", "jaeger");
const configFile = join(moduleDir, "config.yaml");
/** GOPATH and GOCACHE of this build live in the stack dir, so a rebuild reuses them. */
const goDir = join(stackDir, "go");

/** The module's go.mod and go.sum decide the binary; a changed one builds a new binary. */
function binaryPath(): string {
  const hash = createHash("sha256")
    .update(readFileSync(join(moduleDir, "go.mod")))
    .update(readFileSync(join(moduleDir, "go.sum")))
    .digest("hex")
    .slice(0, 12);
  return join(stackDir, "bin", `jaeger-${hash}`);
}

/** OTLP/HTTP traces URL of the local collector (what `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT` takes). */
export const localOtlpTracesUrl = `http://${host}:${ports.otlpHttp}/v1/traces`;
/** Base URL of Jaeger's query API (`/api/v3/traces/<id>` returns a trace as OTLP JSON). */
export const jaegerQueryUrl = `http://${host}:${ports.jaegerQuery}`;

function jaegerEnv(): Record<string, string> {
  return {
    TIERGATE_OTLP_HTTP_PORT: String(ports.otlpHttp),
    TIERGATE_JAEGER_QUERY_PORT: String(ports.jaegerQuery),
    TIERGATE_JAEGER_QUERY_GRPC_PORT: String(ports.jaegerQueryGrpc),
    TIERGATE_JAEGER_HEALTH_PORT: String(ports.jaegerHealth),
  };
}

/**
 * Builds Jaeger v2 from the Go module proxy (test/stack/jaeger/go.mod pins it as a tool) into
 * `.stack/bin/`. The first build compiles the OpenTelemetry Collector and takes minutes on two cores;
 * later ones find the binary (or the build cache) under `.stack/go`.
 */
async function build(binary: string): Promise<void> {
  if (!(await hasCommand("go")))
    throw new MissingPieceError("go", "Install Go 1.25 or newer (Debian: apt-get install golang).");
  mkdirSync(join(stackDir, "bin"), { recursive: true });
  const partial = `${binary}.partial`;
  await run(
    "go",
    ["build", "-trimpath", "-ldflags=-s -w", "-o", partial, "github.com/jaegertracing/jaeger/cmd/jaeger"],
    {
      cwd: moduleDir,
      env: { GOPATH: goDir, GOCACHE: join(goDir, "cache"), GOFLAGS: "-mod=readonly", CGO_ENABLED: "0" },
    },
  );
  renameSync(partial, binary);
}

async function healthy(): Promise<boolean> {
  const response = await fetch(`http://${host}:${ports.jaegerHealth}/status`, {
    signal: AbortSignal.timeout(1_000),
  }).catch(() => undefined);
  return response?.ok === true;
}

/** Jaeger v2 all-in-one on 127.0.0.1: OTLP/HTTP receiver, in-memory trace store, query API. */
export const jaegerService: StackService = {
  name,
  url: jaegerQueryUrl,

  async install() {
    const binary = binaryPath();
    if (!existsSync(binary)) await build(binary);
  },

  async start() {
    const pid = readPid(name);
    if (isAlive(pid) && (await healthy())) return;
    if (!isAlive(pid)) {
      for (const port of [ports.otlpHttp, ports.jaegerQuery, ports.jaegerHealth]) {
        if (await tcpOpen(port)) {
          throw new Error(
            `port ${host}:${port} is held by a process the stack did not start; stop it or move Jaeger ` +
              "with TIERGATE_OTLP_HTTP_PORT / TIERGATE_JAEGER_QUERY_PORT / TIERGATE_JAEGER_HEALTH_PORT",
          );
        }
      }
      spawnDaemon({ name, command: binaryPath(), args: ["--config", configFile], env: jaegerEnv() });
    }
    await waitFor(name, healthy, 30_000);
  },

  async stop() {
    if (isAlive(readPid(name))) await stopDaemon(name, 10_000);
  },

  healthy,

  async reset() {
    // Traces live in memory only.
  },
};
