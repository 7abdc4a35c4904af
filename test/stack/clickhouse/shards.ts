import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dataDir, repoRoot } from "../paths.ts";
import { host } from "../ports.ts";
import { spawnDaemon, stopDaemon, waitFor } from "../process.ts";
import { stopStatement } from "./protocol.ts";

/** One engine of a sharded group: its HTTP URL and native TCP port. */
export interface ShardServer {
  name: string;
  url: string;
  tcpPort: number;
}

/** Options of {@link startShards}. */
export interface ShardGroupOptions {
  /** The cluster's name in `<remote_servers>`. */
  cluster: string;
  /** HTTP port of the first shard; shard i listens on basePort + i (HTTP) and basePort + 1000 + i (TCP). */
  basePort: number;
  count: number;
}

const bunBinary = join(repoRoot, "node_modules", ".bin", "bun");
const serverScript = join(repoRoot, "test", "stack", "clickhouse", "server.ts");

/**
 * The server config of a sharded group: every engine knows the cluster (one replica per shard).
 * This engine build neither applies profile settings from the config nor runs the background sender of
 * Distributed inserts (seen: rows waited in system.distribution_queue), so callers flush with
 * `SYSTEM FLUSH DISTRIBUTED`; a ClickHouse server sends them in the background.
 */
function groupConfig(options: ShardGroupOptions): string {
  const shards = Array.from(
    { length: options.count },
    (_, i) =>
      `<shard><replica><host>${host}</host><port>${options.basePort + 1000 + i}</port></replica></shard>`,
  ).join("\n      ");
  return `<clickhouse>
  <listen_host>${host}</listen_host>
  <max_server_memory_usage>1073741824</max_server_memory_usage>
  <mark_cache_size>67108864</mark_cache_size>
  <uncompressed_cache_size>0</uncompressed_cache_size>
  <keep_alive_timeout>2</keep_alive_timeout>
  <remote_servers>
    <${options.cluster}>
      ${shards}
    </${options.cluster}>
  </remote_servers>
</clickhouse>
`;
}

/**
 * Starts `count` ClickHouse engines (chdb) with HTTP and native TCP listeners, on fresh data
 * directories, as one cluster without replication (this engine build opens no Keeper session).
 */
export async function startShards(options: ShardGroupOptions): Promise<ShardServer[]> {
  const root = join(dataDir, `clickhouse-${options.cluster}`);
  rmSync(root, { recursive: true, force: true });
  mkdirSync(root, { recursive: true });
  const configPath = join(root, "config.xml");
  writeFileSync(configPath, groupConfig(options));
  const servers: ShardServer[] = [];
  for (let i = 0; i < options.count; i++) {
    const name = `clickhouse-${options.cluster}-${i + 1}`;
    const httpPort = options.basePort + i;
    const tcpPort = options.basePort + 1000 + i;
    const path = join(root, `shard-${i + 1}`);
    mkdirSync(path, { recursive: true });
    await stopDaemon(name, 5_000);
    spawnDaemon({
      name,
      command: bunBinary,
      args: [
        serverScript,
        `--path=${path}`,
        `--http-port=${httpPort}`,
        `--tcp-port=${tcpPort}`,
        `--config=${configPath}`,
      ],
      cwd: repoRoot,
    });
    servers.push({ name, url: `http://${host}:${httpPort}`, tcpPort });
  }
  for (const server of servers) {
    await waitFor(server.name, async () => (await fetch(`${server.url}/?query=SELECT%201`)).ok, 60_000);
  }
  return servers;
}

/** Stops the engines cleanly (cancelling their keep-alive query), signals after a timeout. */
export async function stopShards(servers: readonly ShardServer[]): Promise<void> {
  await Promise.all(
    servers.map(async (server) => {
      await fetch(`${server.url}/`, {
        method: "POST",
        body: stopStatement,
        signal: AbortSignal.timeout(10_000),
      }).catch(() => undefined);
      await stopDaemon(server.name, 15_000);
    }),
  );
}
