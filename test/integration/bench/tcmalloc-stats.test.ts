import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readTcmallocStats } from "../../bench/tcmalloc-stats.ts";
import { aptInstall, hasCommand } from "../../stack/process.ts";
import { workerdBinary } from "../../stack/workerd-edge.ts";

// The soak's allocator counters come through gdb, which a fresh machine may lack: installed here as
// the stack installs its services.
describe("tcmalloc counters of the workerd the edge runs on, through gdb", () => {
  let dir: string;
  let child: ChildProcess;

  beforeAll(async () => {
    if (!(await hasCommand("gdb"))) await aptInstall("gdb (tcmalloc counters)", ["gdb"]);
    dir = mkdtempSync(join(tmpdir(), "tcmalloc-workerd-"));
    writeFileSync(join(dir, "w.js"), 'export default { fetch() { return new Response("ok"); } };');
    writeFileSync(
      join(dir, "c.capnp"),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
services = [(name = "main", worker = .w)],
sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const w :Workerd.Worker = (modules = [(name = "w.js", esModule = embed "w.js")], compatibilityDate = "2024-09-01");
`,
    );
    child = spawn(workerdBinary, ["serve", join(dir, "c.capnp")], { stdio: "ignore" });
    await new Promise((resolve) => setTimeout(resolve, 1_000));
  }, 300_000);

  afterAll(() => {
    child.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  });

  // gdb loads workerd's symbols (a 120 MB binary) on each attach: seconds on a busy machine.
  it("reads memory in use and held, and after a release holds no free pages", { timeout: 120_000 }, () => {
    const before = readTcmallocStats(child.pid ?? 0);
    expect(before).not.toHaveProperty("unavailable");
    if ("unavailable" in before) return;
    expect(before.allocated_mb).toBeGreaterThan(0);
    expect(before.heap_mb).toBeGreaterThanOrEqual(before.allocated_mb);
    const after = readTcmallocStats(child.pid ?? 0, true);
    if ("unavailable" in after) throw new Error(after.unavailable);
    expect(after.pageheap_free_mb).toBe(0);
    expect(after.pageheap_unmapped_mb).toBeGreaterThanOrEqual(before.pageheap_unmapped_mb);
  });
});
