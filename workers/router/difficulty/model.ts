import { z } from "zod";
import type { TaskType } from "../../providers/types.ts";
import { denseFeatureNames, featureVersion, featurize } from "./features.ts";
import { dot, sigmoid, softmax } from "./logistic.ts";

/** The difficulty levels the classifier predicts, cheapest first; chat tiers map onto them by cost order. */
export const levels = ["small", "medium", "large"] as const;
export type Level = (typeof levels)[number];

/** A weight vector stored sparsely: `[index, weight]` pairs (zeros left out). */
const sparseWeights = z.array(z.tuple([z.number().int().nonnegative(), z.number()]));

/**
 * A trained router model as stored in the registry (`router_models.model`) and bundled as the default:
 * two ordinal heads, P(the request needs more than `small`) and P(more than `medium`), and a task-class
 * head. `defaultTarget` is the success probability the trainer chose for the targets on held-out folds.
 */
export const routerModelSchema = z.object({
  format: z.literal(1),
  version: z.string().min(1),
  kind: z.literal("lexical"),
  features: z.literal(featureVersion),
  buckets: z.number().int().positive(),
  aboveSmall: sparseWeights,
  aboveMedium: sparseWeights,
  categories: z.array(z.string().min(1)).min(1),
  categoryWeights: z.array(sparseWeights),
  categoryTasks: z.record(z.string(), z.enum(["classify", "extract", "generate", "chat"])),
  defaultTarget: z.number().min(0).max(1),
  trainedOn: z.object({ examples: z.number().int(), source: z.string(), sha256: z.string() }),
  metrics: z.record(z.string(), z.number()),
});
export type RouterModel = z.infer<typeof routerModelSchema>;

/** The chance each level answers well enough, e.g. `{ small: 0.31, medium: 0.82, large: 1 }`. */
export type LevelSuccess = Record<Level, number>;

/** What the classifier says about one prompt. */
export interface DifficultyPrediction {
  success: LevelSuccess;
  /** The task class (classify, extract, factual, summarise, translate, rewrite, code, reasoning, longform). */
  category: string;
  categoryConfidence: number;
  task: TaskType;
}

/** A model with dense weight arrays, ready to score. */
export interface CompiledRouterModel {
  model: RouterModel;
  aboveSmall: Float64Array;
  aboveMedium: Float64Array;
  categoryWeights: Float64Array[];
}

function dense(weights: readonly [number, number][], dim: number): Float64Array {
  const out = new Float64Array(dim);
  for (const [i, w] of weights) if (i < dim) out[i] = w;
  return out;
}

/** Stores a weight vector sparsely, rounded to 4 significant digits. */
export function toSparse(weights: ArrayLike<number>): [number, number][] {
  const out: [number, number][] = [];
  for (let i = 0; i < weights.length; i++) {
    const w = weights[i] as number;
    if (Math.abs(w) > 1e-6) out.push([i, Number(w.toPrecision(4))]);
  }
  return out;
}

/** The feature dimension of a model: its hashed buckets plus the dense cues. */
export function modelDimension(buckets: number): number {
  return buckets + denseFeatureNames.length;
}

export function compileRouterModel(model: RouterModel): CompiledRouterModel {
  const dim = modelDimension(model.buckets);
  return {
    model,
    aboveSmall: dense(model.aboveSmall, dim),
    aboveMedium: dense(model.aboveMedium, dim),
    categoryWeights: model.categoryWeights.map((w) => dense(w, dim)),
  };
}

/**
 * Scores one prompt. Success is monotone in the level: medium never scores under small, large is 1
 * (the top tier is the reference every label is judged against).
 */
export function predictDifficulty(compiled: CompiledRouterModel, text: string): DifficultyPrediction {
  const x = featurize(text, compiled.model.buckets);
  const small = 1 - sigmoid(dot(compiled.aboveSmall, x));
  const medium = Math.max(small, 1 - sigmoid(dot(compiled.aboveMedium, x)));
  const probabilities = softmax(compiled.categoryWeights.map((w) => dot(w, x)));
  let best = 0;
  probabilities.forEach((p, i) => {
    if (p > (probabilities[best] ?? 0)) best = i;
  });
  const category = compiled.model.categories[best] ?? "unknown";
  return {
    success: { small, medium, large: 1 },
    category,
    categoryConfidence: probabilities[best] ?? 0,
    task: compiled.model.categoryTasks[category] ?? "generate",
  };
}
