/**
 * `bun test/bench/keepalive-race.ts`: shows why a load generator on Bun's fetch sees ECONNRESET from
 * workerd now and then. workerd closes a keep-alive connection idle for 5 s; fetch keeps idle
 * connections longer, so a request sent on one after an idle gap of about 5 s races the server's
 * close. For each gap this sends one request, waits the gap, and sends a second one on the pooled
 * connection, once through fetch and once through the keep-alive client whose idle timeout (4 s) is
 * below workerd's. Serves a trivial worker in workerd on a private port (no stack needed); prints a
 * table and writes `.stack/results/keepalive-race.json`.
 */

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { writeResults } from "../stack/paths.ts";
import { workerdBinary } from "../stack/workerd-edge.ts";
import { KeepAliveClient, workerdKeepAliveMs } from "./keepalive-client.ts";

const port = 8798;
const url = `http://127.0.0.1:${port}/`;
const gapsMs = [4_000, 4_900, 4_980, 4_990, 4_995, 4_998, 5_000, 5_002, 5_010, 5_050, 6_000];

function startWorkerd(dir: string): ChildProcess {
  writeFileSync(
    join(dir, "w.js"),
    'export default { async fetch(r) { await r.arrayBuffer(); return new Response("ok"); } };',
  );
  writeFileSync(
    join(dir, "c.capnp"),
    `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [(name = "main", worker = .w)],
  sockets = [(name = "http", address = "127.0.0.1:${port}", http = (), service = "main")],
);
const w :Workerd.Worker = (modules = [(name = "w.js", esModule = embed "w.js")], compatibilityDate = "2024-09-01");
`,
  );
  return spawn(workerdBinary, ["serve", join(dir, "c.capnp")], { stdio: "ignore" });
}

/** Outcome of a second request after `gapMs` of idleness on the connection the first one used. */
async function afterGap(send: () => Promise<unknown>, gapMs: number): Promise<string> {
  await send();
  await new Promise((resolve) => setTimeout(resolve, gapMs));
  try {
    await send();
    return "answered";
  } catch (error: unknown) {
    return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 60) : String(error);
  }
}

const dir = mkdtempSync(join(tmpdir(), "keepalive-race-"));
const workerd = startWorkerd(dir);
try {
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const client = new KeepAliveClient(workerdKeepAliveMs - 1_000);
  const viaFetch = async () => (await fetch(url, { method: "POST", body: "x" })).text();
  const viaClient = () => client.send({ url, method: "POST", headers: {}, body: "x", timeoutMs: 5_000 });
  const rows: { gap_ms: number; fetch: string; keepalive_client: string }[] = [];
  for (const gapMs of gapsMs) {
    rows.push({
      gap_ms: gapMs,
      fetch: await afterGap(viaFetch, gapMs),
      keepalive_client: await afterGap(viaClient, gapMs),
    });
  }
  client.close();
  console.table(rows);
  console.log(
    `wrote ${writeResults("keepalive-race", { server_idle_timeout_ms: workerdKeepAliveMs, rows })}`,
  );
} finally {
  workerd.kill("SIGTERM");
  rmSync(dir, { recursive: true, force: true });
}
