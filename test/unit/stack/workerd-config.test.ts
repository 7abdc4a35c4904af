import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  defaultV8Flags,
  workerdBinary,
  workerdConfig,
  writeWorkerdConfig,
} from "../../stack/workerd-edge.ts";

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/** Serves a generated config with a trivial worker; resolves with the exit code, or "running" after 1.5 s. */
async function serve(v8Flags: string[] | undefined): Promise<number | "running"> {
  const dir = mkdtempSync(join(tmpdir(), "workerd-config-"));
  dirs.push(dir);
  writeFileSync(join(dir, "worker.js"), 'export default { fetch() { return new Response("ok"); } };');
  const config = writeWorkerdConfig(dir, "edge", {
    port: 0,
    bindings: { A: "b" },
    ...(v8Flags ? { v8Flags } : {}),
  });
  const child = spawn(workerdBinary, ["serve", config], { stdio: "ignore" });
  const outcome = await Promise.race([
    new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? -1))),
    new Promise<"running">((resolve) => setTimeout(() => resolve("running"), 1_500)),
  ]);
  child.kill("SIGKILL");
  return outcome;
}

describe("the generated workerd config's V8 flags", () => {
  it("lists the flags only when there are some", () => {
    expect(workerdConfig({ port: 1, bindings: {}, v8Flags: ["--gc-global"] })).toContain(
      'v8Flags = ["--gc-global"],',
    );
    expect(workerdConfig({ port: 1, bindings: {} })).not.toContain("v8Flags");
    expect(workerdConfig({ port: 1, bindings: {}, v8Flags: [] })).not.toContain("v8Flags");
  });

  it("is accepted by workerd with the supervisor's flag, and refused with an unknown one", async () => {
    expect(defaultV8Flags).toContain("--gc-global");
    expect(await serve(defaultV8Flags)).toBe("running");
    expect(await serve(["--no-such-v8-flag"])).not.toBe("running");
  });
});
