import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { stackEnvFileName } from "../../workers/scripts/lib/script-env.ts";
import { stackDir } from "./paths.ts";
import { host, localSecrets, ports } from "./ports.ts";

/** Postgres URL of the local stack (reached through the Neon WebSocket proxy). */
export const localDatabaseUrl = `postgresql://${localSecrets.postgresUser}:${localSecrets.postgresPassword}@${host}:${ports.postgres}/${localSecrets.postgresDb}`;

/** Environment of a pool worker on the local stack. */
export function localPoolEnv() {
  return {
    POOL_HOST: host,
    POOL_PORT: String(ports.pool),
    POOL_REGION: "local",
    POOL_SIGNING_SECRET: localSecrets.poolSigningSecret,
    POOL_ADMIN_SECRETS: Object.entries(localSecrets.adminSecrets)
      .map(([name, secret]) => `${name}=${secret}`)
      .join(","),
    REDIS_URL: `redis://${host}:${ports.redis}`,
    DATABASE_URL: localDatabaseUrl,
    NEON_WS_PROXY: `${host}:${ports.neonProxy}/v1`,
    CLICKHOUSE_URL: `http://${host}:${ports.clickhouse}`,
    CLICKHOUSE_DATABASE: "tiergate",
    KAFKA_BROKERS: `${host}:${ports.kafka}`,
    SPOOL_DIR: join(stackDir, "spool"),
  };
}

/** Bindings of the edge on the local stack (wrangler.toml carries the same values for `wrangler dev`). */
export function localEdgeEnv() {
  return {
    UPSTASH_REDIS_REST_URL: `http://${host}:${ports.upstashBridge}`,
    UPSTASH_REDIS_REST_TOKEN: localSecrets.upstashToken,
    POOL_REGIONS: `local=http://${host}:${ports.pool}`,
    POOL_SIGNING_SECRET: localSecrets.poolSigningSecret,
    POOL_ADMIN_SECRET: localSecrets.adminSecrets["edge-cron"],
    POOL_ADMIN_CREDENTIAL: "edge-cron",
  };
}

/** The file scripts and the Deno edge read the local stack's settings from (workers/scripts/lib/script-env.ts). */
export const localEnvFile = join(stackDir, stackEnvFileName);

/**
 * Writes the local stack's settings for hand-run scripts (`npm run keys`, `registry`, `migrate`,
 * `backfill:*`) and `npm run dev:edge:deno`: the pool's and the edge's variables, plus the Deno edge's
 * port (beside the workerd edge). Variables set in a script's environment still win over it.
 */
export function writeLocalEnvFile(): string {
  const values = { ...localPoolEnv(), ...localEdgeEnv(), EDGE_PORT: String(ports.edge + 1) };
  writeFileSync(localEnvFile, `${JSON.stringify(values, null, 2)}\n`, { mode: 0o600 });
  return localEnvFile;
}
