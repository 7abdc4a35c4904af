import type { WorkerEnv } from "../pool/env.ts";
import type { EndpointSpec } from "../providers/types.ts";
import { defaultTiers, type RoutingTable, type TierKind, type TierRoute } from "./types.ts";

/** A tier's own settings, as `registry_tiers` stores them. */
export interface TierShape {
  name: string;
  rank: number;
  kind: TierKind;
  tasks: TierRoute["tasks"];
  budgetMs: number;
  timeoutMs: number;
}

/** The tier's own settings of a seed (or of anything carrying them), without its version and endpoint. */
export function tierShape({ name, rank, kind, tasks, budgetMs, timeoutMs }: TierShape): TierShape {
  return { name, rank, kind, tasks, budgetMs, timeoutMs };
}

/** What one tier is seeded with: from `VLLM_<TIER>_*` when set, else the local model server. */
export interface TierSeed extends TierShape {
  version: string;
  endpoint: {
    baseURL: string;
    model: string;
    apiKeyName: string | null;
    metricsURL: string;
    completions: boolean;
  };
}

type TierVars = { baseURL?: string | undefined; apiKey?: string | undefined; model?: string | undefined };

function tierVars(config: WorkerEnv, tier: string): TierVars {
  switch (tier) {
    case "small":
      return {
        baseURL: config.VLLM_SMALL_BASE_URL,
        apiKey: config.VLLM_SMALL_API_KEY,
        model: config.VLLM_SMALL_MODEL,
      };
    case "medium":
      return {
        baseURL: config.VLLM_MEDIUM_BASE_URL,
        apiKey: config.VLLM_MEDIUM_API_KEY,
        model: config.VLLM_MEDIUM_MODEL,
      };
    case "large":
      return {
        baseURL: config.VLLM_LARGE_BASE_URL,
        apiKey: config.VLLM_LARGE_API_KEY,
        model: config.VLLM_LARGE_MODEL,
      };
    default:
      return {
        baseURL: config.VLLM_EMBED_BASE_URL,
        apiKey: config.VLLM_EMBED_API_KEY,
        model: config.VLLM_EMBED_MODEL,
      };
  }
}

/** vLLM serves Prometheus metrics at the server root, beside `/v1`. */
export function metricsURLOf(baseURL: string): string {
  return `${baseURL.replace(/\/+$/, "").replace(/\/v1$/, "")}/metrics`;
}

/** The seed of every default tier under this configuration. */
export function tierSeeds(config: WorkerEnv): TierSeed[] {
  return defaultTiers.map((tier) => {
    const vars = tierVars(config, tier.name);
    const baseURL = vars.baseURL ?? config.LOCAL_MODEL_BASE_URL;
    const model = vars.model ?? `tiergate-${tier.name}`;
    return {
      ...tier,
      budgetMs: config.TIER_BUDGETS_MS[tier.name] ?? 1_000,
      timeoutMs: config.TIER_TIMEOUTS_MS[tier.name] ?? 30_000,
      version: `${model}@1`,
      endpoint: {
        baseURL,
        model,
        apiKeyName: vars.apiKey ? `VLLM_${tier.name.toUpperCase()}_API_KEY` : null,
        metricsURL: metricsURLOf(baseURL),
        completions: true,
      },
    };
  });
}

/** An endpoint's key by name: `PROVIDER_API_KEYS` first, then the `VLLM_<TIER>_API_KEY` variables. */
export function resolveApiKey(config: WorkerEnv, name: string | null): string {
  if (!name) return "none";
  const named = config.PROVIDER_API_KEYS[name];
  if (named !== undefined) return named;
  const byVar: Record<string, string | undefined> = {
    VLLM_SMALL_API_KEY: config.VLLM_SMALL_API_KEY,
    VLLM_MEDIUM_API_KEY: config.VLLM_MEDIUM_API_KEY,
    VLLM_LARGE_API_KEY: config.VLLM_LARGE_API_KEY,
    VLLM_EMBED_API_KEY: config.VLLM_EMBED_API_KEY,
  };
  return byVar[name] ?? "none";
}

/** `REGISTRY_SOURCE=env`: the routing table from the environment alone, without Postgres. */
export function tableFromEnv(config: WorkerEnv): RoutingTable {
  return {
    source: "env",
    tiers: tierSeeds(config).map((seed) => {
      const endpoint: EndpointSpec = {
        id: `${seed.name}-env-0`,
        provider: "openai-compatible",
        baseURL: seed.endpoint.baseURL,
        apiKey: resolveApiKey(config, seed.endpoint.apiKeyName),
        model: seed.endpoint.model,
        weight: 1,
        metricsURL: seed.endpoint.metricsURL,
        completions: seed.endpoint.completions,
      };
      return {
        ...tierShape(seed),
        versionId: `${seed.name}-env`,
        version: seed.version,
        endpoints: [endpoint],
      };
    }),
  };
}
