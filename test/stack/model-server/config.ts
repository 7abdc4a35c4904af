import { z } from "zod";

/** Which engine serves a model name. Several names may share one set of weights. */
export type ModelKind = "chat" | "embedding";

const modelEntrySchema = z.object({
  name: z.string().min(1),
  kind: z.enum(["chat", "embedding"]),
  /** Weight set id from weights.ts. */
  weights: z.enum(["smollm2-135m-instruct-q4_1", "all-minilm-l6-v2"]),
  /** Default for max_tokens when a request names none (chat models). */
  defaultMaxTokens: z.number().int().positive().optional(),
});

const serverConfigSchema = z.object({
  models: z.array(modelEntrySchema).min(1),
  /** Upper bound for max_tokens; larger requests are clamped. */
  maxTokensCap: z.number().int().positive().default(512),
  defaultMaxTokens: z.number().int().positive().default(64),
  /** Context window of the generation context, in tokens. */
  contextSize: z.number().int().positive().default(2048),
  /** llama.cpp threads; 1 avoids spin-wait collapse when the 2 cores are shared with other services. */
  threads: z.number().int().nonnegative().default(1),
  /** Requests allowed to wait for the generation slot; more get 503. */
  maxWaiting: z.number().int().positive().default(64),
  /** Seed used when a request names none, so sampled output is repeatable too. */
  defaultSeed: z.number().int().default(0),
  /** Temperature used when a request names none (SmolLM2's suggested value). */
  defaultTemperature: z.number().min(0).max(2).default(0.2),
});

export type ModelEntry = z.infer<typeof modelEntrySchema>;
export type ModelServerConfig = z.infer<typeof serverConfigSchema>;

/** The tiers the gateway routes between; all three share SmolLM2 weights locally. */
export const defaultModels: ModelEntry[] = [
  { name: "tiergate-small", kind: "chat", weights: "smollm2-135m-instruct-q4_1" },
  { name: "tiergate-medium", kind: "chat", weights: "smollm2-135m-instruct-q4_1" },
  { name: "tiergate-large", kind: "chat", weights: "smollm2-135m-instruct-q4_1" },
  { name: "tiergate-embed", kind: "embedding", weights: "all-minilm-l6-v2" },
];

/**
 * Reads the server configuration: `TIERGATE_MODEL_SERVER_CONFIG` may hold a JSON object with any of the
 * fields (e.g. `{"models":[...]}`); `TIERGATE_MODEL_THREADS` overrides the thread count.
 */
export function loadModelServerConfig(env: Record<string, string | undefined>): ModelServerConfig {
  const raw = env.TIERGATE_MODEL_SERVER_CONFIG;
  let parsed: unknown = {};
  if (raw && raw.trim() !== "") {
    try {
      parsed = JSON.parse(raw);
    } catch (error: unknown) {
      throw new Error("TIERGATE_MODEL_SERVER_CONFIG is not valid JSON", { cause: error });
    }
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
      throw new Error("TIERGATE_MODEL_SERVER_CONFIG must be a JSON object");
    }
  }
  const withDefaults: Record<string, unknown> = {
    models: defaultModels,
    ...(parsed as Record<string, unknown>),
  };
  if (env.TIERGATE_MODEL_THREADS) withDefaults.threads = Number.parseInt(env.TIERGATE_MODEL_THREADS, 10);
  const config = serverConfigSchema.parse(withDefaults);
  const names = new Set<string>();
  for (const model of config.models) {
    if (names.has(model.name)) throw new Error(`model name ${model.name} is configured twice`);
    names.add(model.name);
    const expected = model.kind === "chat" ? "smollm2-135m-instruct-q4_1" : "all-minilm-l6-v2";
    if (model.weights !== expected) throw new Error(`model ${model.name}: ${model.kind} needs ${expected}`);
  }
  return config;
}
