/**
 * The local Upstash REST bridge: `bun test/stack/upstash-bridge/server.ts`.
 * Listens on 127.0.0.1:TIERGATE_UPSTASH_PORT and forwards to Redis on 127.0.0.1:TIERGATE_REDIS_PORT.
 */
import { host, localSecrets, ports } from "../ports.ts";
import { createBridgeHandler } from "./handler.ts";
import { RedisPool } from "./redis-pool.ts";

const pool = new RedisPool({ host, port: ports.redis, size: 4 });
const handler = createBridgeHandler({
  token: process.env.TIERGATE_UPSTASH_TOKEN ?? localSecrets.upstashToken,
  run: (commands) => pool.exec(commands),
});

const server = Bun.serve({ hostname: host, port: ports.upstashBridge, fetch: handler });
console.log(`upstash-bridge: listening on http://${host}:${server.port}, redis at ${host}:${ports.redis}`);

function shutdown(signal: string): void {
  console.log(`upstash-bridge: ${signal}, stopping`);
  server.stop(true);
  pool.close();
  process.exit(0);
}
process.on("SIGTERM", () => shutdown("SIGTERM"));
process.on("SIGINT", () => shutdown("SIGINT"));
