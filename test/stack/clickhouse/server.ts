// A real ClickHouse HTTP server for the local stack: the ClickHouse engine inside chdb's libchdb.so,
// started through its command-line entry with a query that opens the HTTP listener and then sleeps
// forever. Stopping it means cancelling that query (HTTP `KILL QUERY`), which returns the call.
//
//   bun test/stack/clickhouse/server.ts --path=<data dir> --http-port=<port>
//
// SIGTERM/SIGINT do the same cancel from this (free) main thread, so plain signals stop it cleanly too.

import { parseArgs } from "node:util";
import { resolveLibchdb } from "chdb/libchdb";
import type { EngineRequest, EngineResult } from "./engine-worker.ts";
import { keepAliveQuery, stopStatement } from "./protocol.ts";

function engineArgv(dataPath: string, httpPort: number, configPath: string): string[] {
  return [
    "clickhouse",
    "--multiquery",
    `--config-file=${configPath}`,
    `--path=${dataPath}`,
    `--http_port=${httpPort}`,
    "--output-format=TabSeparated",
    `--query=SYSTEM START LISTEN HTTP; ${keepAliveQuery}`,
  ];
}

async function requestStop(httpPort: number): Promise<void> {
  try {
    await fetch(`http://127.0.0.1:${httpPort}/`, {
      method: "POST",
      body: stopStatement,
      signal: AbortSignal.timeout(10_000),
    });
  } catch (error: unknown) {
    console.error(`clickhouse server: stop request failed: ${String(error)}`);
  }
}

function main(): void {
  const { values } = parseArgs({
    options: { path: { type: "string" }, "http-port": { type: "string" } },
  });
  const dataPath = values.path;
  const httpPort = Number.parseInt(values["http-port"] ?? "", 10);
  if (!dataPath || !Number.isInteger(httpPort)) {
    console.error("usage: bun test/stack/clickhouse/server.ts --path=<data dir> --http-port=<port>");
    process.exit(2);
  }
  const library = resolveLibchdb();
  const configPath = new URL("./config.xml", import.meta.url).pathname;
  console.log(
    `clickhouse server: engine ${library.path}, data ${dataPath}, port ${httpPort}, pid ${process.pid}`,
  );

  const worker = new Worker(new URL("./engine-worker.ts", import.meta.url).href);
  let stopping = false;
  const onSignal = (signal: string) => {
    console.log(`clickhouse server: ${signal}, cancelling the keep-alive query`);
    if (!stopping) {
      stopping = true;
      void requestStop(httpPort);
    }
  };
  process.on("SIGTERM", () => onSignal("SIGTERM"));
  process.on("SIGINT", () => onSignal("SIGINT"));
  worker.onmessage = (event: MessageEvent<EngineResult>) => {
    const { error } = event.data;
    // A cancelled keep-alive query is the normal way out.
    const clean = error === "" || error.includes("QUERY_WAS_CANCELLED");
    console.log(`clickhouse server: engine returned${clean ? "" : ` an error: ${error}`}`);
    process.exit(clean ? 0 : 1);
  };
  const request: EngineRequest = {
    libraryPath: library.path,
    argv: engineArgv(dataPath, httpPort, configPath),
  };
  worker.postMessage(request);
}

if (import.meta.main) main();
