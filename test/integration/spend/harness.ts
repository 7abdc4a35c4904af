import { randomUUID } from "node:crypto";
import type { OpenAPIHono } from "@hono/zod-openapi";
import { Consumer, stringDeserializers } from "@platformatic/kafka";
import { createEdgeApp } from "../../../edge/app.ts";
import { createEdgeRedis, servicesFor } from "../../../edge/services/edge-services.ts";
import type { HonoEnv } from "../../../edge/types.ts";
import { type RequestEvent, requestEventSchema, topics } from "../../../shared/events.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { localEdgeEnv, localPoolEnv } from "../../stack/local-env.ts";
import { localSecrets } from "../../stack/ports.ts";
import { localKafkaBrokers } from "../events/local-kafka.ts";

/** The edge app in this process, forwarding to `poolUrl`, on the stack's Redis. */
export function edgeFor(poolUrl: string): OpenAPIHono<HonoEnv> {
  const built = servicesFor({ ...localEdgeEnv(), POOL_REGIONS: `local=${poolUrl}` });
  if (!built.ok) throw new Error(built.problems.join("; "));
  return createEdgeApp(built.services);
}

/** The stack's Redis as the edge sees it. */
export const edgeRedis = createEdgeRedis(localEdgeEnv().UPSTASH_REDIS_REST_URL, localSecrets.upstashToken);

/** The stack's Postgres. */
export function stackDatabase() {
  const env = localPoolEnv();
  return createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
}

/** Polls until `probe` returns a value (not undefined); throws after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Watches the request-events topic from now on (a throwaway group that inserts nowhere) and collects
 * the events of the given tenant, as the pool published them.
 */
export async function watchEvents(tenant: string) {
  const consumer = new Consumer({
    clientId: "tiergate-spend-test",
    groupId: `test-${randomUUID()}`,
    bootstrapBrokers: localKafkaBrokers,
    deserializers: stringDeserializers,
  });
  const seen: RequestEvent[] = [];
  const stream = await consumer.consume({
    topics: [topics.requestEvents],
    mode: "latest",
    autocommit: false,
    maxWaitTime: 200,
  });
  stream.on("data", (message) => {
    if (message.key !== tenant) return;
    const parsed = requestEventSchema.safeParse(JSON.parse(message.value ?? "null"));
    if (parsed.success) seen.push(parsed.data);
  });
  // Joining the group and fetching the end offsets happens before `latest` means anything.
  await new Promise((r) => setTimeout(r, 3_000));
  return {
    event: (requestId: string) =>
      eventually(async () => seen.find((e) => e.request_id === requestId), 30_000),
    async close() {
      await stream.close();
      await consumer.close(true);
    },
  };
}
