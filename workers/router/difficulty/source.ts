import { readFileSync } from "node:fs";
import type { ChatCompletionRequest } from "../../../shared/schemas/chat.ts";
import { type Classification, lastUserText } from "../classifier.ts";
import {
  type CompiledRouterModel,
  compileRouterModel,
  predictDifficulty,
  routerModelSchema,
} from "./model.ts";

/** Where the router gets its classifier and the per-tenant shifts learned from feedback. */
export interface DifficultySource {
  /** The active classifier (the registry's, else the bundled default). */
  model(): CompiledRouterModel;
  /** Tiers to move a tenant's task class up (positive) or down (negative); 0 when nothing was learned. */
  shift(tenant: string, taskClass: string): number;
}

let bundled: CompiledRouterModel | undefined;

/** The classifier bundled with the code (trained by `npm run train:router`), parsed once. */
export function bundledRouterModel(): CompiledRouterModel {
  if (!bundled) {
    const raw = readFileSync(new URL("./default-model.json", import.meta.url), "utf8");
    bundled = compileRouterModel(routerModelSchema.parse(JSON.parse(raw)));
  }
  return bundled;
}

/** The bundled classifier and no learned shifts (REGISTRY_SOURCE=env, tests, evals). */
export const bundledDifficultySource: DifficultySource = {
  model: bundledRouterModel,
  shift: () => 0,
};

/**
 * Classifies a request with the difficulty model: no text generation, only hashed features and three
 * dot products. `confidence` is the task-class probability; difficulty is `hard` when small is
 * predicted more likely to fail than not.
 */
export function learnedClassify(
  request: ChatCompletionRequest,
  compiled: CompiledRouterModel,
): Classification {
  const prediction = predictDifficulty(compiled, lastUserText(request));
  return {
    task: prediction.task,
    difficulty: prediction.success.small < 0.5 ? "hard" : "easy",
    confidence: prediction.categoryConfidence,
    decidedBy: "learned",
    category: prediction.category,
    success: prediction.success,
    modelVersion: compiled.model.version,
  };
}
