import { existsSync, rmSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { dataDir, repoRoot, serviceDataDir } from "../paths.ts";
import { host, localSecrets, ports } from "../ports.ts";
import {
  aptInstall,
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
import { encodeCommand, RespDecoder, type RespValue } from "../upstash-bridge/resp.ts";

/** Sends one command on a fresh connection and returns its reply; rejects on I/O errors or timeout. */
export function redisCommandOnce(args: string[], port = ports.redis, timeoutMs = 1_000): Promise<RespValue> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port });
    const decoder = new RespDecoder();
    const finish = (error: Error | undefined, value?: RespValue) => {
      socket.destroy();
      if (error) reject(error);
      else resolve(value ?? null);
    };
    socket.setTimeout(timeoutMs, () =>
      finish(new Error(`redis ${host}:${port}: no reply within ${timeoutMs} ms`)),
    );
    socket.once("error", (error) => finish(error));
    socket.once("connect", () => socket.write(encodeCommand(args)));
    socket.on("data", (chunk: Buffer) => {
      try {
        const [reply] = decoder.push(chunk);
        if (reply !== undefined) finish(undefined, reply);
      } catch (error: unknown) {
        finish(error instanceof Error ? error : new Error(String(error)));
      }
    });
  });
}

/** The pid of the Redis answering on the port (from INFO server), or undefined when none answers. */
async function redisProcessId(): Promise<number | undefined> {
  const info = await redisCommandOnce(["INFO", "server"]).catch(() => undefined);
  if (!Buffer.isBuffer(info)) return undefined;
  const match = /^process_id:(\d+)/m.exec(info.toString("utf8"));
  return match?.[1] ? Number.parseInt(match[1], 10) : undefined;
}

/** Debian's package starts a system redis on 6379 after install (unless policy-rc.d forbids it); stop and disable it. */
async function stopSystemRedis(): Promise<void> {
  await run("service", ["redis-server", "stop"]).catch(() => undefined);
  if (await hasCommand("update-rc.d"))
    await run("update-rc.d", ["redis-server", "disable"]).catch(() => undefined);
  if (await hasCommand("systemctl"))
    await run("systemctl", ["disable", "redis-server"]).catch(() => undefined);
}

function redisArgs(): string[] {
  return [
    "--bind",
    host,
    "--port",
    String(ports.redis),
    "--protected-mode",
    "no",
    "--daemonize",
    "no",
    "--supervised",
    "no",
    "--dir",
    serviceDataDir("redis"),
    "--appendonly",
    "yes",
    "--appendfsync",
    "everysec",
    "--save",
    "900 1 300 10 60 10000",
  ];
}

/** Debian's redis-server 7 on 127.0.0.1:ports.redis, AOF + RDB under `.stack/data/redis`. */
export const redisService: StackService = {
  name: "redis",
  url: `redis://${host}:${ports.redis}`,

  async install() {
    if (await hasCommand("redis-server")) return;
    await aptInstall("Redis 7 (redis-server)", ["redis-server"]);
    await stopSystemRedis();
  },

  async start() {
    const pid = readPid("redis");
    if (isAlive(pid) && (await redisProcessId()) === pid) return;
    if (await tcpOpen(ports.redis)) {
      const holder = await redisProcessId();
      throw new Error(
        `port ${host}:${ports.redis} is held by a process the stack did not start` +
          `${holder ? ` (a redis with pid ${holder}, e.g. Debian's system service: \`service redis-server stop\`)` : ""}; ` +
          "stop it or move the stack's Redis with TIERGATE_REDIS_PORT",
      );
    }
    if (isAlive(pid)) await stopDaemon("redis");
    spawnDaemon({ name: "redis", command: "redis-server", args: redisArgs() });
    await waitFor("redis", () => this.healthy(), 15_000);
  },

  async stop() {
    if (isAlive(readPid("redis"))) await stopDaemon("redis", 15_000);
  },

  async healthy() {
    return (await redisCommandOnce(["PING"]).catch(() => undefined)) === "PONG";
  },

  async reset() {
    rmSync(join(dataDir, "redis"), { recursive: true, force: true });
  },
};

const bunBinary = join(repoRoot, "node_modules", ".bin", "bun");
const bridgeUrl = `http://${host}:${ports.upstashBridge}`;

/** An authenticated PING through the bridge; true only when the bridge and Redis behind it answer. */
async function bridgePing(): Promise<boolean> {
  const response = await fetch(bridgeUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${localSecrets.upstashToken}`, "content-type": "application/json" },
    body: JSON.stringify(["PING"]),
    signal: AbortSignal.timeout(1_000),
  });
  if (!response.ok) return false;
  const body: unknown = await response.json();
  return typeof body === "object" && body !== null && "result" in body && body.result === "PONG";
}

/** The Upstash-REST-compatible HTTP bridge (a Bun server) in front of the stack's Redis. */
export const upstashBridgeService: StackService = {
  name: "upstash-bridge",
  url: bridgeUrl,

  async install() {
    if (!existsSync(bunBinary))
      throw new MissingPieceError("bun", "Run `npm ci` in the repository (bun comes from npm).");
  },

  async start() {
    if (await this.healthy().catch(() => false)) return;
    if (!isAlive(readPid("upstash-bridge"))) {
      if (await tcpOpen(ports.upstashBridge)) {
        throw new Error(
          `port ${host}:${ports.upstashBridge} is held by a process the stack did not start; ` +
            "stop it or move the bridge with TIERGATE_UPSTASH_PORT",
        );
      }
      spawnDaemon({
        name: "upstash-bridge",
        command: bunBinary,
        args: [join(repoRoot, "test", "stack", "upstash-bridge", "server.ts")],
        cwd: repoRoot,
        env: {
          TIERGATE_UPSTASH_PORT: String(ports.upstashBridge),
          TIERGATE_REDIS_PORT: String(ports.redis),
        },
      });
    }
    await waitFor("upstash-bridge", () => this.healthy(), 15_000);
  },

  async stop() {
    await stopDaemon("upstash-bridge");
  },

  healthy() {
    return bridgePing().catch(() => false);
  },

  async reset() {
    // Stateless: the data lives in Redis.
  },
};
