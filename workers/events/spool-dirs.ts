import { randomBytes } from "node:crypto";
import { link, mkdir, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";

/**
 * Every process that spools events owns one directory under the spool root (`<root>/worker-<n>`), held
 * by a lock file naming its pid. The spool orders its operations within one process only, so two
 * processes must never share a directory. A directory whose lock names a dead process is an orphan: any
 * live process may take it over (and replay it).
 *
 * The lock is created complete and atomically: the owner line is written to a private file, which is
 * then hard-linked to `owner.lock` (link fails if the name exists). A stale lock is moved aside with a
 * rename, which only one contender can win; the winner checks it moved the stale lock it judged, and
 * puts back anything else.
 */

const lockName = "owner.lock";
const slotPattern = /^worker-(\d+)$/;
const legacyFiles = /^(seg-\d{12}\.jsonl|cursor\.json)$/;

/** Directories this process holds (several producers can run in one process, as in tests). */
const heldHere = new Set<string>();

/** Who holds a lock: the pid and, where /proc exists, the process's start time (guards pid reuse). */
interface Owner {
  pid: number;
  started: string;
}

async function processStart(pid: number): Promise<string> {
  const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
  // Field 22 (starttime); fields are counted after the command name, which ends at the last ')'.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return fields[19] ?? "";
}

async function readOwner(path: string): Promise<Owner | undefined> {
  const text = await readFile(path, "utf8").catch(() => undefined);
  if (text === undefined) return undefined;
  const [pid, started] = text.trim().split(" ");
  return { pid: Number(pid), started: started ?? "" };
}

/** Whether the lock's owner still runs (as the same process, not a later one that reuses its pid). */
async function ownerAlive(owner: Owner, dir: string): Promise<boolean> {
  if (!Number.isInteger(owner.pid) || owner.pid <= 0) return false;
  if (owner.pid === process.pid) return heldHere.has(dir);
  try {
    process.kill(owner.pid, 0);
  } catch (error: unknown) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  const started = await processStart(owner.pid);
  return owner.started === "" || started === "" || started === owner.started;
}

function errno(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

/** Takes the lock of `dir` if it is free or stale; false when a live process holds it. */
export async function tryLockDir(dir: string): Promise<boolean> {
  const lock = join(dir, lockName);
  const mine = `${process.pid} ${await processStart(process.pid)}\n`;
  for (let attempt = 0; attempt < 3; attempt++) {
    await mkdir(dir, { recursive: true });
    const draft = join(dir, `.lock-${process.pid}-${randomBytes(4).toString("hex")}`);
    try {
      await writeFile(draft, mine);
      await link(draft, lock);
      heldHere.add(dir);
      return true;
    } catch (error: unknown) {
      if (errno(error) === "ENOENT") continue; // the directory was removed meanwhile: make it again
      if (errno(error) !== "EEXIST") throw error;
    } finally {
      await rm(draft, { force: true });
    }
    const owner = await readOwner(lock);
    if (owner === undefined) continue; // released meanwhile
    if (await ownerAlive(owner, dir)) return false;
    if (!(await moveStaleLock(lock, owner))) return false;
  }
  return false;
}

/** Moves a stale lock aside; false if another process changed it first (a live lock is put back). */
async function moveStaleLock(lock: string, judged: Owner): Promise<boolean> {
  const aside = `${lock}.stale-${process.pid}-${randomBytes(4).toString("hex")}`;
  try {
    await rename(lock, aside);
  } catch {
    return false; // another contender moved it first
  }
  const moved = await readOwner(aside);
  if (moved?.pid !== judged.pid || moved.started !== judged.started) {
    await link(aside, lock).catch(() => undefined);
    await rm(aside, { force: true });
    return false;
  }
  await rm(aside, { force: true });
  return true;
}

/** Gives up the lock of `dir`; its spool files stay for the next owner. */
export async function unlockDir(dir: string): Promise<void> {
  heldHere.delete(dir);
  await rm(join(dir, lockName), { force: true });
}

/**
 * Deletes a directory this process holds. It is first renamed to a unique name, so no other process can
 * take its lock while the files are being removed.
 */
export async function removeLockedDir(root: string, dir: string): Promise<void> {
  const trash = join(root, `.trash-${process.pid}-${randomBytes(4).toString("hex")}`);
  heldHere.delete(dir);
  await rename(dir, trash);
  await rm(trash, { recursive: true, force: true });
}

/** Directories a process died while deleting (they held an empty spool). */
async function removeTrash(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  for (const name of names) {
    const pid = /^\.trash-(\d+)-/.exec(name)?.[1];
    if (pid !== undefined && !(await ownerAlive({ pid: Number(pid), started: "" }, "")))
      await rm(join(root, name), { recursive: true, force: true });
  }
}

async function slots(root: string): Promise<number[]> {
  const names = await readdir(root).catch(() => [] as string[]);
  return names.flatMap((name) => {
    const match = slotPattern.exec(name);
    return match ? [Number(match[1])] : [];
  });
}

/** The directory of slot `n` under `root`. */
export const slotDir = (root: string, n: number): string => join(root, `worker-${n}`);

/**
 * Claims the lowest free or orphaned slot under `root` and returns its directory (locked). An orphan's
 * spool is kept: the new owner replays it first.
 */
export async function claimSpoolDir(root: string): Promise<string> {
  await mkdir(root, { recursive: true });
  for (let n = 0; n < 100_000; n++) {
    const dir = slotDir(root, n);
    if (heldHere.has(dir)) continue;
    if (await tryLockDir(dir)) return dir;
  }
  throw new Error(`no free spool directory under ${root}`);
}

/**
 * Locks and returns every slot under `root` whose owner is gone (other than the ones this process holds).
 * Spool files left directly in `root` by an older layout are first moved into a slot of their own.
 */
export async function adoptOrphans(root: string): Promise<string[]> {
  await moveLegacySpool(root);
  await removeTrash(root);
  const adopted: string[] = [];
  for (const n of await slots(root)) {
    const dir = slotDir(root, n);
    if (heldHere.has(dir)) continue;
    if (await tryLockDir(dir).catch(() => false)) adopted.push(dir);
  }
  return adopted;
}

/** Spool files from the single-directory layout move into a new locked slot (then adopted as an orphan). */
async function moveLegacySpool(root: string): Promise<void> {
  const names = await readdir(root).catch(() => [] as string[]);
  const legacy = names.filter((name) => legacyFiles.test(name));
  if (legacy.length === 0) return;
  const dir = await claimSpoolDir(root);
  for (const name of legacy) await rename(join(root, name), join(dir, name)).catch(() => undefined);
  await unlockDir(dir);
}
