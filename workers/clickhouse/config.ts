import { z } from "zod";
import type { ClickHouseConfig } from "./client.ts";

/** The ClickHouse variables, spread into the pool's env schema (and read the same way by the CLIs). */
export const clickhouseEnvShape = {
  CLICKHOUSE_URL: z.url(),
  CLICKHOUSE_USER: z.string().default("default"),
  CLICKHOUSE_PASSWORD: z.string().default(""),
  CLICKHOUSE_DATABASE: z.string().default("tiergate"),
};

const clickhouseEnvSchema = z.object(clickhouseEnvShape);

/** The ClickHouse variables as given: only the URL is required, the rest take the defaults above. */
export type ClickHouseEnv = z.input<typeof clickhouseEnvSchema>;

/** The one mapping from the ClickHouse variables to the client's config. Throws on a malformed URL. */
export function clickhouseConfig(env: ClickHouseEnv): ClickHouseConfig {
  const parsed = clickhouseEnvSchema.parse(env);
  return {
    url: parsed.CLICKHOUSE_URL,
    username: parsed.CLICKHOUSE_USER,
    password: parsed.CLICKHOUSE_PASSWORD,
    database: parsed.CLICKHOUSE_DATABASE,
  };
}

/** Where the CLIs look for ClickHouse when CLICKHOUSE_URL is unset: the local development server. */
export const localClickHouseUrl = "http://127.0.0.1:8123";
