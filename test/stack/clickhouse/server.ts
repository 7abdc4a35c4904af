// A real ClickHouse HTTP server for the local stack: the ClickHouse engine inside chdb's libchdb.so,
// started through its command-line entry with a query that opens the HTTP listener and then sleeps
// forever. Stopping it means cancelling that query (HTTP `KILL QUERY`), which returns the call.
//
//   bun test/stack/clickhouse/server.ts --path=<data dir> --http-port=<port> [--tcp-port=<port>] [--config=<file>]
//
// With --tcp-port the native protocol listens too (Distributed tables reach other servers over it); the
// listener opens in the same launching statement as HTTP, since one opened by a later query closes again.
//
// SIGTERM/SIGINT do the same cancel from this (free) main thread, so plain signals stop it cleanly too.

import { parseArgs } from "node:util";
import { resolveLibchdb } from "chdb/libchdb";
import type { EngineRequest, EngineResult } from "./engine-worker.ts";
import { keepAliveQuery, stopStatement } from "./protocol.ts";

interface EngineOptions {
  dataPath: string;
  httpPort: number;
  tcpPort?: number;
  configPath: string;
}

function engineArgv(options: EngineOptions): string[] {
  const tcp = options.tcpPort === undefined ? [] : [`--tcp_port=${options.tcpPort}`];
  const listen =
    options.tcpPort === undefined
      ? "SYSTEM START LISTEN HTTP;"
      : "SYSTEM START LISTEN HTTP; SYSTEM START LISTEN TCP;";
  return [
    "clickhouse",
    "--multiquery",
    `--config-file=${options.configPath}`,
    `--path=${options.dataPath}`,
    `--http_port=${options.httpPort}`,
    ...tcp,
    "--output-format=TabSeparated",
    `--query=${listen} ${keepAliveQuery}`,
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
    options: {
      path: { type: "string" },
      "http-port": { type: "string" },
      "tcp-port": { type: "string" },
      config: { type: "string" },
    },
  });
  const dataPath = values.path;
  const httpPort = Number.parseInt(values["http-port"] ?? "", 10);
  if (!dataPath || !Number.isInteger(httpPort)) {
    console.error(
      "usage: bun test/stack/clickhouse/server.ts --path=<data dir> --http-port=<port> [--tcp-port=<port>] [--config=<file>]",
    );
    process.exit(2);
  }
  const library = resolveLibchdb();
  const configPath = values.config ?? new URL("./config.xml", import.meta.url).pathname;
  const tcpPort = values["tcp-port"] ? Number.parseInt(values["tcp-port"], 10) : undefined;
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
    argv: engineArgv({ dataPath, httpPort, configPath, ...(tcpPort === undefined ? {} : { tcpPort }) }),
  };
  worker.postMessage(request);
}

if (import.meta.main) main();
