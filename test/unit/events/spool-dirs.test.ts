import { spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  adoptOrphans,
  claimSpoolDir,
  removeLockedDir,
  slotDir,
  tryLockDir,
  unlockDir,
} from "../../../workers/events/spool-dirs.ts";
import { repoRoot } from "../../stack/paths.ts";

let root: string;
beforeEach(() => {
  root = mkdtempSync(join(tmpdir(), "tiergate-spool-root-"));
});
afterEach(() => {
  rmSync(root, { recursive: true, force: true });
});

/** The pid of a process that has exited (so no live process holds it, barring reuse). */
function deadPid(): number {
  const child = spawnSync("sh", ["-c", "echo $$"], { encoding: "utf8" });
  return Number(child.stdout.trim());
}

function writeLock(dir: string, pid: number, started = ""): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "owner.lock"), `${pid} ${started}\n`);
}

describe("spool directories", () => {
  it("gives each claimant its own locked slot, naming the owner's pid", async () => {
    const first = await claimSpoolDir(root);
    const second = await claimSpoolDir(root);
    expect([first, second]).toEqual([slotDir(root, 0), slotDir(root, 1)]);
    expect(readFileSync(join(first, "owner.lock"), "utf8").split(" ")[0]).toBe(String(process.pid));
    await unlockDir(first);
    expect(await claimSpoolDir(root)).toBe(first);
  });

  it("takes over a slot whose owner died, keeping its spool files", async () => {
    const dir = slotDir(root, 0);
    writeLock(dir, deadPid());
    writeFileSync(join(dir, "seg-000000000001.jsonl"), '{"n":1}\n');
    expect(await claimSpoolDir(root)).toBe(dir);
    expect(readFileSync(join(dir, "seg-000000000001.jsonl"), "utf8")).toBe('{"n":1}\n');
  });

  it("respects a slot held by a live process, and one whose pid was reused by another process", async () => {
    writeLock(slotDir(root, 0), process.ppid);
    expect(await tryLockDir(slotDir(root, 0))).toBe(false);
    expect(await claimSpoolDir(root)).toBe(slotDir(root, 1));
    // Same pid, different start time: the owner is gone and the pid belongs to someone else now.
    writeLock(slotDir(root, 2), process.ppid, "1");
    expect(await tryLockDir(slotDir(root, 2))).toBe(true);
  });

  it("adopts orphans only, and moves a spool of the single-directory layout into a slot", async () => {
    const mine = await claimSpoolDir(root);
    writeLock(slotDir(root, 1), process.ppid);
    writeLock(slotDir(root, 2), deadPid());
    mkdirSync(slotDir(root, 3)); // never locked (its owner died before locking)
    writeFileSync(join(root, "seg-000000000007.jsonl"), '{"n":7}\n');
    writeFileSync(join(root, "cursor.json"), '{"segment":7,"offset":0,"line":0}');
    const adopted = await adoptOrphans(root);
    expect(adopted).not.toContain(mine);
    expect(adopted).not.toContain(slotDir(root, 1));
    expect(adopted).toContain(slotDir(root, 2));
    expect(adopted).toContain(slotDir(root, 3));
    const legacy = adopted.find((dir) => existsSync(join(dir, "seg-000000000007.jsonl")));
    expect(legacy).toBeDefined();
    expect(existsSync(join(legacy ?? "", "cursor.json"))).toBe(true);
    expect(readdirSync(root).filter((n) => n.endsWith(".jsonl"))).toEqual([]);
    expect(await adoptOrphans(root)).toEqual([]); // all held now
  });

  it("removes a held directory without leaving it claimable mid-removal", async () => {
    const dir = await claimSpoolDir(root);
    writeFileSync(join(dir, "seg-000000000001.jsonl"), "");
    await removeLockedDir(root, dir);
    expect(readdirSync(root)).toEqual([]);
  });

  it("separate processes racing for the same stale slots each get a different one", async () => {
    for (let n = 0; n < 3; n++) writeLock(slotDir(root, n), deadPid());
    const script = `import { claimSpoolDir } from ${JSON.stringify(join(repoRoot, "workers/events/spool-dirs.ts"))};
      process.stdout.write((await claimSpoolDir(${JSON.stringify(root)})) + "\\n");
      await new Promise((r) => setTimeout(r, 4000));`;
    const claims = await Promise.all(
      Array.from(
        { length: 6 },
        () =>
          new Promise<string>((resolve, reject) => {
            const child = spawn(join(repoRoot, "node_modules/.bin/bun"), ["-e", script], { cwd: repoRoot });
            let out = "";
            child.stdout.on("data", (chunk: Buffer) => {
              out += chunk.toString();
              if (out.includes("\n")) resolve(out.trim());
            });
            child.on("exit", (code) =>
              code === 0 ? resolve(out.trim()) : reject(new Error(`exit ${code}`)),
            );
          }),
      ),
    );
    expect(new Set(claims).size).toBe(6);
    for (const claim of claims) expect(claim).toMatch(/worker-[0-5]$/);
  }, 30_000);
});
