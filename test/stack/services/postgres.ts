import { createHash } from "node:crypto";
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { join, resolve } from "node:path";
import { dataDir, ensureStackDirs, repoRoot, stackDir } from "../paths.ts";
import { host, localSecrets, ports } from "../ports.ts";
import {
  aptInstall,
  isAlive,
  logFile,
  MissingPieceError,
  run,
  spawnDaemon,
  stopDaemon,
  tcpOpen,
  waitFor,
} from "../process.ts";
import type { StackService } from "../service.ts";

const pgBin = "/usr/lib/postgresql/15/bin";
const osUser = "postgres";
const initializedMarker = "tiergate-initialized";
const { postgresUser, postgresPassword, postgresDb } = localSecrets;

/** Postgres URL of the local stack (TCP, password auth). */
export const localDatabaseUrl = `postgresql://${postgresUser}:${postgresPassword}@${host}:${ports.postgres}/${postgresDb}`;
/** `host:port/path` of the local WebSocket-to-TCP proxy, as `NEON_WS_PROXY` expects it. */
export const localWsProxy = `${host}:${ports.neonProxy}/v1`;

/**
 * PostgreSQL runs as the `postgres` OS user, which must reach its data dir. Inside the checkout that
 * fails whenever a parent is closed to others (a clone under a mode-700 home), so the data lives in a
 * per-stack directory under /var/tmp (world-traversable, kept across reboots) named by a hash of the
 * stack dir's path. A data dir an earlier version made inside the stack dir is kept while it exists.
 */
const pgDataRoot = "/var/tmp";
const legacyDataDir = (): string => join(dataDir, "postgres");
/** Written in the stack dir once its data dir is initialized: the data there belongs to this stack. */
const claimFile = (): string => join(dataDir, "postgres-data-dir");

function pgData(): string {
  if (existsSync(join(legacyDataDir(), initializedMarker))) return legacyDataDir();
  const id = createHash("sha256").update(resolve(stackDir)).digest("hex").slice(0, 12);
  return join(pgDataRoot, `tiergate-postgres-${id}`);
}

/** Unix sockets are limited to ~107 bytes; fall back to /tmp when the data dir path is too long. */
function socketDir(): string {
  const candidate = pgData();
  return `${candidate}/.s.PGSQL.${ports.postgres}`.length < 100 ? candidate : "/tmp";
}

/** Runs a Postgres binary as the postgres OS user. */
function pg(binary: string, args: string[]): Promise<string> {
  return run(join(pgBin, binary), args, { user: osUser, cwd: "/tmp" });
}

/** psql over the unix socket as the postgres superuser (peer auth). */
function psqlAdmin(sql: string, database = "postgres"): Promise<string> {
  const args = ["-X", "-At", "-v", "ON_ERROR_STOP=1", "-h", socketDir(), "-p", String(ports.postgres)];
  return pg("psql", [...args, "-d", database, "-c", sql]);
}

/** The postmaster pid recorded in the data dir, if that process is alive. */
function runningPostmasterPid(): number | undefined {
  const file = join(pgData(), "postmaster.pid");
  if (!existsSync(file)) return undefined;
  const pid = Number.parseInt(readFileSync(file, "utf8").split("\n")[0] ?? "", 10);
  return isAlive(pid) ? pid : undefined;
}

/** Creates the data dir owned by postgres (mode 0700) and checks the postgres user can reach it. */
async function prepareDataDir(): Promise<string> {
  const dir = pgData();
  mkdirSync(dir, { recursive: true });
  if (dir === legacyDataDir()) {
    for (const parent of [dataDir, stackDir]) {
      const mode = statSync(parent).mode;
      if ((mode & 0o001) === 0) chmodSync(parent, mode | 0o001);
    }
  }
  const { uid, gid } = osUserIds();
  chownSync(dir, uid, gid);
  chmodSync(dir, 0o700);
  const reachable = await run("test", ["-w", dir], { user: osUser }).then(
    () => true,
    () => false,
  );
  if (!reachable) throw new Error(`the postgres OS user cannot write ${dir}`);
  return dir;
}

let cachedIds: { uid: number; gid: number } | undefined;
function osUserIds(): { uid: number; gid: number } {
  if (cachedIds) return cachedIds;
  const line = readFileSync("/etc/passwd", "utf8")
    .split("\n")
    .find((l) => l.startsWith(`${osUser}:`));
  const [, , uid, gid] = line?.split(":") ?? [];
  if (uid === undefined || gid === undefined) {
    throw new MissingPieceError(
      "the postgres OS user",
      "Install the Debian package postgresql (it creates it).",
    );
  }
  cachedIds = { uid: Number(uid), gid: Number(gid) };
  return cachedIds;
}

/**
 * initdb once. A half-finished earlier attempt (no marker) is wiped and redone, and so is a data dir
 * this stack dir has not claimed (left by an earlier checkout at the same path whose stack dir is gone).
 */
async function initCluster(): Promise<void> {
  const dir = await prepareDataDir();
  const ours = dir === legacyDataDir() || existsSync(claimFile());
  if (ours && existsSync(join(dir, initializedMarker))) return;
  rmSync(dir, { recursive: true, force: true });
  await prepareDataDir();
  await pg("initdb", [
    "-D",
    dir,
    "-U",
    "postgres",
    "--encoding=UTF8",
    "--no-locale",
    "--auth-local=peer",
    "--auth-host=scram-sha-256",
    // Local, disposable data: skipping the fsyncs makes initdb seconds faster on a busy disk.
    "--no-sync",
  ]);
  writeFileSync(join(dir, initializedMarker), new Date().toISOString());
  const { uid, gid } = osUserIds();
  chownSync(join(dir, initializedMarker), uid, gid);
  ensureStackDirs();
  writeFileSync(claimFile(), `${dir}\n`);
}

/** A Debian-managed cluster (apt may auto-start `15/main` on 5432) must not hold our port. */
async function freePortFromDebianCluster(): Promise<void> {
  if (!(await tcpOpen(ports.postgres))) return;
  const clusters = await run("pg_lsclusters", ["--no-header"]).catch(() => "");
  for (const line of clusters.split("\n")) {
    const [version, cluster, port, status] = line.trim().split(/\s+/);
    if (version && cluster && Number(port) === ports.postgres && status?.startsWith("online")) {
      await run("pg_ctlcluster", [version, cluster, "stop", "-m", "fast"]);
    }
  }
  await waitFor("postgres (port release)", async () => !(await tcpOpen(ports.postgres)), 10_000).catch(() => {
    throw new Error(
      `port ${ports.postgres} is held by something other than tiergate's postgres; stop it or set TIERGATE_PG_PORT`,
    );
  });
}

/** Creates the application role and database from localSecrets if missing. */
async function ensureRoleAndDatabase(): Promise<void> {
  const quotedPassword = postgresPassword.replaceAll("'", "''");
  await psqlAdmin(
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${postgresUser}') THEN
         CREATE ROLE "${postgresUser}" LOGIN PASSWORD '${quotedPassword}';
       END IF;
     END $$;`,
  );
  const exists = await psqlAdmin(`SELECT 1 FROM pg_database WHERE datname = '${postgresDb}'`);
  if (exists.trim() !== "1") await psqlAdmin(`CREATE DATABASE "${postgresDb}" OWNER "${postgresUser}"`);
}

/** A real `SELECT 1` over TCP with the application's credentials. */
async function selectOne(): Promise<boolean> {
  const out = await run(join(pgBin, "psql"), ["-X", "-At", "-d", localDatabaseUrl, "-c", "SELECT 1"], {
    env: { PGCONNECT_TIMEOUT: "3" },
  }).catch(() => "");
  return out.trim() === "1";
}

export const postgresService: StackService = {
  name: "postgres",
  url: localDatabaseUrl,

  async install() {
    if (!existsSync(join(pgBin, "postgres"))) await aptInstall("PostgreSQL 15", ["postgresql"]);
    if (!existsSync(join(pgBin, "postgres"))) {
      throw new MissingPieceError("PostgreSQL 15", "Install the Debian package postgresql-15.");
    }
  },

  async start() {
    if (await this.healthy()) return;
    await initCluster();
    if (runningPostmasterPid() === undefined) {
      await freePortFromDebianCluster();
      rmSync(join(pgData(), "postmaster.pid"), { force: true });
      spawnDaemon({
        name: "postgres",
        user: osUser,
        cwd: "/tmp",
        command: join(pgBin, "postgres"),
        args: [
          "-D",
          pgData(),
          "-c",
          `listen_addresses=${host}`,
          "-c",
          `port=${ports.postgres}`,
          "-c",
          `unix_socket_directories=${socketDir()}`,
          "-c",
          "max_connections=200",
        ],
      });
    }
    await waitFor("postgres", () => psqlAdmin("SELECT 1").then((o) => o.trim() === "1"), 30_000);
    await ensureRoleAndDatabase();
    await waitFor("postgres", selectOne, 10_000);
  },

  async stop() {
    if (runningPostmasterPid() !== undefined) {
      await pg("pg_ctl", ["stop", "-D", pgData(), "-m", "fast", "-w", "-t", "30"]).catch((error: unknown) => {
        throw new Error(`pg_ctl stop failed; see ${logFile("postgres")}`, { cause: error });
      });
    }
    await stopDaemon("postgres");
  },

  /** Our postmaster is running (not some other server on the port) and answers `SELECT 1` over TCP. */
  async healthy() {
    return runningPostmasterPid() !== undefined && (await selectOne());
  },

  async reset() {
    rmSync(pgData(), { recursive: true, force: true });
    rmSync(claimFile(), { force: true });
  },
};

const proxyServer = join(repoRoot, "test", "stack", "neon-proxy", "server.ts");

/** Health = the proxy answers a plain HTTP GET. */
async function proxyAnswers(): Promise<boolean> {
  const response = await fetch(`http://${host}:${ports.neonProxy}/`, {
    signal: AbortSignal.timeout(2_000),
  }).catch(() => undefined);
  return response !== undefined;
}

export const neonProxyService: StackService = {
  name: "neon-proxy",
  url: localWsProxy,

  async install() {
    if (!existsSync(join(repoRoot, "node_modules", ".bin", "bun"))) {
      throw new MissingPieceError(
        "bun",
        "Run `npm install` in the repository (bun comes from the npm package).",
      );
    }
  },

  async start() {
    if (await proxyAnswers()) return;
    spawnDaemon({
      name: "neon-proxy",
      command: join(repoRoot, "node_modules", ".bin", "bun"),
      args: [proxyServer],
      env: {
        NEON_PROXY_HOST: host,
        NEON_PROXY_PORT: String(ports.neonProxy),
        NEON_PROXY_PG_PORT: String(ports.postgres),
      },
    });
    await waitFor("neon-proxy", proxyAnswers, 15_000);
  },

  async stop() {
    await stopDaemon("neon-proxy");
  },

  healthy: proxyAnswers,

  async reset() {
    // stateless
  },
};
