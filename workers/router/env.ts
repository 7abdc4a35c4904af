import { z } from "zod";
import { positiveInt } from "../../shared/env.ts";

/** `name=value,name=value` → a record; an empty string is an empty record. */
const pairs = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((s, ctx) => {
      const out: Record<string, string> = {};
      for (const item of s
        .split(",")
        .map((p) => p.trim())
        .filter(Boolean)) {
        const at = item.indexOf("=");
        if (at <= 0) {
          ctx.addIssue({ code: "custom", message: `expected name=value, got '${item}'` });
          return z.NEVER;
        }
        out[item.slice(0, at).trim()] = item.slice(at + 1).trim();
      }
      return out;
    });

const msPerTier = (fallback: string) =>
  pairs(fallback).transform((record, ctx) => {
    const out: Record<string, number> = {};
    for (const [name, value] of Object.entries(record)) {
      const ms = Number(value);
      if (!Number.isInteger(ms) || ms <= 0) {
        ctx.addIssue({
          code: "custom",
          message: `${name}: expected a positive integer of ms, got '${value}'`,
        });
        return z.NEVER;
      }
      out[name] = ms;
    }
    return out;
  });

/**
 * The router's part of the pool configuration (spread into workers/pool/env.ts). The `VLLM_<TIER>_*`
 * variables point a tier at a real vLLM (or any OpenAI-compatible server); unset, a tier uses the local
 * model server. They seed the Postgres registry on first boot, or are the whole routing table with
 * `REGISTRY_SOURCE=env`.
 */
export const routerEnvShape = {
  REGISTRY_SOURCE: z.enum(["postgres", "env"]).default("postgres"),
  /** How often a worker re-reads the registry (ms). */
  REGISTRY_POLL_MS: positiveInt(2_000),
  VLLM_SMALL_BASE_URL: z.url().optional(),
  VLLM_SMALL_API_KEY: z.string().optional(),
  VLLM_SMALL_MODEL: z.string().min(1).optional(),
  VLLM_MEDIUM_BASE_URL: z.url().optional(),
  VLLM_MEDIUM_API_KEY: z.string().optional(),
  VLLM_MEDIUM_MODEL: z.string().min(1).optional(),
  VLLM_LARGE_BASE_URL: z.url().optional(),
  VLLM_LARGE_API_KEY: z.string().optional(),
  VLLM_LARGE_MODEL: z.string().min(1).optional(),
  VLLM_EMBED_BASE_URL: z.url().optional(),
  VLLM_EMBED_API_KEY: z.string().optional(),
  VLLM_EMBED_MODEL: z.string().min(1).optional(),
  /** The local stand-in used for tiers without VLLM_* variables. */
  LOCAL_MODEL_BASE_URL: z.url().default("http://127.0.0.1:8000/v1"),
  /** Latency budgets per tier: what each tier should answer within (small 50 ms, medium 200 ms, large 5 s). */
  TIER_BUDGETS_MS: msPerTier("small=50,medium=200,large=5000,embed=200"),
  /** Per-attempt timeouts per tier; generous by default because the local CPU server runs one request at a time. */
  TIER_TIMEOUTS_MS: msPerTier("small=15000,medium=20000,large=30000,embed=15000"),
  ROUTER_CONFIDENCE_THRESHOLD: z.coerce.number().min(0).max(1).default(0.6),
  /**
   * `learned` (default): the difficulty classifier (hashed features, logistic regression; the
   * registry's active router model or the bundled one) picks the cheapest tier expected to succeed.
   * `model`: the small tier labels the task; `heuristic`: keyword rules only.
   */
  ROUTER_CLASSIFIER: z.enum(["learned", "model", "heuristic"]).default("learned"),
  /**
   * The cost/quality knob of the learned router: the predicted success a tier must reach. Unset, the
   * router model's own default (chosen on held-out folds for ≤ 5% under-routing).
   */
  ROUTER_TARGET_SUCCESS: z.coerce.number().gt(0).max(1).optional(),
  /** Feedback learning: the share of well-rated answers a tenant's task class should get on its tier. */
  ROUTE_LEARNING_TARGET: z.coerce.number().gt(0).lt(1).default(0.7),
  /** Ratings hold "well above" the target at target + this margin; then a cheaper tier is tried. */
  ROUTE_LEARNING_LOWER_MARGIN: z.coerce.number().gt(0).lt(1).default(0.2),
  /** Windows with fewer rated answers for a class are not judged. */
  ROUTE_LEARNING_MIN_RATED: positiveInt(10),
  /** Bounds of the learned shift: tiers up, and tiers down. */
  ROUTE_LEARNING_MAX_RAISE: z.coerce.number().int().min(0).max(3).default(2),
  ROUTE_LEARNING_MAX_LOWER: z.coerce.number().int().min(0).max(3).default(1),
  /** Consecutive well-rated windows before a cheaper tier is tried. */
  ROUTE_LEARNING_LOWER_WINDOWS: positiveInt(6),
  ROUTER_RETRY_ATTEMPTS: positiveInt(3),
  ROUTER_RETRY_BASE_MS: positiveInt(20),
  BREAKER_FAILURE_THRESHOLD: positiveInt(3),
  BREAKER_COOLDOWN_MS: positiveInt(5_000),
  /** API keys that registry endpoints name in `api_key_name`: `name=key,…`. */
  PROVIDER_API_KEYS: pairs(""),
};

const routerEnvSchema = z.object(routerEnvShape);
export type RouterEnv = z.infer<typeof routerEnvSchema>;
