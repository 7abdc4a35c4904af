import type { EndpointSpec } from "../../../workers/providers/types.ts";
import { defaultTiers, type RoutingTable, type TierRoute } from "../../../workers/registry/types.ts";
import { type Balancer, defaultBalancerOptions } from "../../../workers/router/balancer.ts";
import { Router, type RouterConfig } from "../../../workers/router/router.ts";
import { localModelServer } from "../../stack/services/model-server.ts";

export const modelServerRoot = localModelServer.baseURL.replace(/\/v1$/, "");

/** An endpoint on an OpenAI-compatible base URL (the model server or a fault proxy in front of it). */
export function endpoint(id: string, root: string, model: string, weight = 1): EndpointSpec {
  return {
    id,
    provider: "openai-compatible",
    baseURL: `${root}/v1`,
    apiKey: localModelServer.apiKey,
    model,
    weight,
    metricsURL: `${root}/metrics`,
    completions: true,
  };
}

/** A tier of the default shape with the given endpoints. */
export function tier(name: string, endpoints: EndpointSpec[], timeoutMs = 20_000): TierRoute {
  const shape = defaultTiers.find((t) => t.name === name);
  if (!shape) throw new Error(`no tier ${name}`);
  return {
    ...shape,
    budgetMs: 100,
    timeoutMs,
    versionId: `${name}-test`,
    version: `${name}-test@1`,
    endpoints,
  };
}

/** Every tier straight on the local model server. */
export function localTable(): RoutingTable {
  return {
    source: "env",
    tiers: ["small", "medium", "large", "embed"].map((name) =>
      tier(name, [endpoint(`${name}-0`, modelServerRoot, `tiergate-${name}`)]),
    ),
  };
}

export function testRouter(
  table: RoutingTable,
  overrides: Partial<RouterConfig> = {},
  balancer?: Balancer,
): Router {
  return new Router(
    () => table,
    {
      confidenceThreshold: 0.6,
      classifier: "model",
      retry: { attempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
      balancer: { ...defaultBalancerOptions, failureThreshold: 2, cooldownMs: 60_000 },
      ...overrides,
    },
    balancer,
  );
}

export function context(deadlineMs = 60_000) {
  return {
    requestId: `test-${crypto.randomUUID()}`,
    deadline: Date.now() + deadlineMs,
    signal: new AbortController().signal,
  };
}

export async function eventually<T>(
  probe: () => Promise<T | undefined> | T | undefined,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 100));
  }
}
