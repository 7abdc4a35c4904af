import type { StackService } from "./service.ts";
import { clickhouseService } from "./services/clickhouse.ts";
import { jaegerService } from "./services/jaeger.ts";
import { kafkaService } from "./services/kafka.ts";
import { modelServerService } from "./services/model-server.ts";
import { neonProxyService, postgresService } from "./services/postgres.ts";
import { redisService, upstashBridgeService } from "./services/redis.ts";

/**
 * The local stack, in start order. Services in the same group start concurrently;
 * a later group waits for the earlier ones (e.g. a bridge needs its backend).
 */
export const serviceGroups: StackService[][] = [
  [redisService, postgresService, clickhouseService, kafkaService, modelServerService],
  [upstashBridgeService, neonProxyService],
  // On demand only (`stack up jaeger`, or the tracing tests): building the collector takes minutes on a
  // fresh machine, and the gateway does not need it to serve.
  [jaegerService],
];

/** Services a plain `stack up` (and so `npm start`) leaves out. */
export const onDemandServices: ReadonlySet<StackService> = new Set([jaegerService]);

export const allServices: StackService[] = serviceGroups.flat();

export function findService(name: string): StackService {
  const service = allServices.find((s) => s.name === name);
  if (!service)
    throw new Error(`unknown service ${name}; known: ${allServices.map((s) => s.name).join(", ")}`);
  return service;
}
