import type { WindowSample } from "../../workers/drift/score.ts";
import { gaussian, seededRandom } from "../../workers/drift/statistics.ts";

/** Synthetic traffic for drift tests and the drift eval: windows of one tier, with a change at `changeAt`. */
export type ScenarioKind =
  | "stationary"
  | "input_shift"
  | "gradual_output_shift"
  | "accuracy_drop"
  | "transient_dip"
  | "recovery";

/** Scenarios with a real change the job must catch, and ones it must not roll back on. */
export const changeKinds: readonly ScenarioKind[] = [
  "input_shift",
  "gradual_output_shift",
  "accuracy_drop",
  "recovery",
];
export const quietKinds: readonly ScenarioKind[] = ["stationary", "transient_dip"];

export interface ScenarioOptions {
  kind: ScenarioKind;
  seed: number;
  windows: number;
  changeAt: number;
  requestsPerWindow: number;
  labelledPerWindow: number;
  dims: number;
}

export const defaultScenario: Omit<ScenarioOptions, "kind" | "seed"> = {
  windows: 24,
  changeAt: 12,
  requestsPerWindow: 200,
  labelledPerWindow: 60,
  dims: 384,
};

const tasks = ["classify", "extract", "generate", "chat"] as const;

function unit(vector: number[]): number[] {
  const norm = Math.sqrt(vector.reduce((s, v) => s + v * v, 0)) || 1;
  return vector.map((v) => v / norm);
}

interface Regime {
  centres: number[][];
  lengthMean: number;
  taskWeights: number[];
  confidenceMean: number;
  answerLengthMean: number;
  fallbackRate: number;
  accuracy: number;
}

function pick(weights: readonly number[], random: () => number): number {
  let r = random() * weights.reduce((s, w) => s + w, 0);
  for (let i = 0; i < weights.length; i++) {
    r -= weights[i] ?? 0;
    if (r <= 0) return i;
  }
  return weights.length - 1;
}

function sampleWindow(regime: Regime, options: ScenarioOptions, random: () => number): WindowSample {
  const n = options.requestsPerWindow;
  const embeddings: number[][] = [];
  const promptLengths: number[] = [];
  const taskLabels: string[] = [];
  const confidences: number[] = [];
  const relevanceScores: number[] = [];
  const answerLengths: number[] = [];
  let fallbacks = 0;
  for (let i = 0; i < n; i++) {
    const centre = regime.centres[Math.floor(random() * regime.centres.length)] ?? [];
    embeddings.push(unit(centre.map((c) => c + 0.35 * gaussian(random))));
    promptLengths.push(
      Math.max(1, Math.round(Math.exp(Math.log(regime.lengthMean) + 0.5 * gaussian(random)))),
    );
    taskLabels.push(tasks[pick(regime.taskWeights, random)] ?? "chat");
    confidences.push(Math.min(1, Math.max(0, regime.confidenceMean + 0.1 * gaussian(random))));
    relevanceScores.push(Math.min(1, Math.max(0, 0.6 + 0.15 * gaussian(random))));
    answerLengths.push(Math.max(1, regime.answerLengthMean + 20 * gaussian(random)));
    if (random() < regime.fallbackRate) fallbacks++;
  }
  let correct = 0;
  for (let i = 0; i < options.labelledPerWindow; i++) if (random() < regime.accuracy) correct++;
  return {
    embeddings,
    promptLengths,
    tasks: taskLabels,
    confidences,
    relevanceScores,
    answerLengths,
    requests: n,
    fallbacks,
    labelled: options.labelledPerWindow,
    correct,
  };
}

/** The reference window and every window of the scenario, deterministic for a seed. */
export function generateScenario(options: ScenarioOptions): {
  reference: WindowSample;
  windows: WindowSample[];
} {
  const random = seededRandom(options.seed);
  const centres = Array.from({ length: 6 }, () =>
    unit(Array.from({ length: options.dims }, () => gaussian(random))),
  );
  const base: Regime = {
    centres,
    lengthMean: 200,
    taskWeights: [0.3, 0.2, 0.2, 0.3],
    confidenceMean: 0.8,
    answerLengthMean: 120,
    fallbackRate: 0.05,
    accuracy: 0.9,
  };
  const shiftedCentres = Array.from({ length: 6 }, () =>
    unit(Array.from({ length: options.dims }, () => gaussian(random))),
  );
  const regimeAt = (w: number): Regime => {
    const after = w >= options.changeAt;
    switch (options.kind) {
      case "stationary":
        return base;
      case "input_shift":
        return after
          ? { ...base, centres: shiftedCentres, lengthMean: 320, taskWeights: [0.1, 0.1, 0.6, 0.2] }
          : base;
      case "gradual_output_shift": {
        const steps = Math.max(0, w - options.changeAt + 1);
        return {
          ...base,
          answerLengthMean: base.answerLengthMean * (1 + 0.08 * steps),
          confidenceMean: base.confidenceMean - 0.02 * steps,
        };
      }
      case "accuracy_drop":
        return after ? { ...base, accuracy: 0.6 } : base;
      case "transient_dip":
        return after && w < options.changeAt + 2 ? { ...base, accuracy: 0.6 } : base;
      case "recovery":
        return after && w < options.changeAt + 5 ? { ...base, accuracy: 0.6 } : base;
    }
  };
  const reference = sampleWindow(
    base,
    { ...options, requestsPerWindow: options.requestsPerWindow * 2 },
    random,
  );
  const windows = Array.from({ length: options.windows }, (_, w) =>
    sampleWindow(regimeAt(w), options, random),
  );
  return { reference, windows };
}
