import type { SparseVector } from "./features.ts";

/** Training settings: L2 strength, full-batch Adam epochs and step size. */
export interface TrainOptions {
  l2: number;
  epochs: number;
  learningRate: number;
}

export const defaultTrainOptions: TrainOptions = { l2: 1e-3, epochs: 300, learningRate: 0.05 };

export function sigmoid(z: number): number {
  return z >= 0 ? 1 / (1 + Math.exp(-z)) : Math.exp(z) / (1 + Math.exp(z));
}

/** w · x over the non-zero entries of x. */
export function dot(weights: ArrayLike<number>, x: SparseVector): number {
  let sum = 0;
  for (const [i, value] of x) sum += (weights[i] ?? 0) * value;
  return sum;
}

/** Softmax of `scores`, numerically stable. */
export function softmax(scores: readonly number[]): number[] {
  const max = Math.max(...scores);
  const exps = scores.map((s) => Math.exp(s - max));
  const total = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / total);
}

/** Full-batch Adam over one weight vector, given a gradient function. */
function adam(
  dim: number,
  options: TrainOptions,
  gradient: (weights: Float64Array, grad: Float64Array) => void,
): Float64Array {
  const weights = new Float64Array(dim);
  const grad = new Float64Array(dim);
  const m = new Float64Array(dim);
  const v = new Float64Array(dim);
  const [beta1, beta2, eps] = [0.9, 0.999, 1e-8];
  for (let t = 1; t <= options.epochs; t++) {
    grad.fill(0);
    gradient(weights, grad);
    for (let i = 0; i < dim; i++) {
      const g = (grad[i] as number) + options.l2 * (weights[i] as number);
      m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
      v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
      const mHat = (m[i] as number) / (1 - beta1 ** t);
      const vHat = (v[i] as number) / (1 - beta2 ** t);
      weights[i] = (weights[i] as number) - (options.learningRate * mHat) / (Math.sqrt(vHat) + eps);
    }
  }
  return weights;
}

/** Binary logistic regression: P(y = 1 | x) = σ(w · x). */
export function trainBinary(
  examples: readonly { x: SparseVector; y: 0 | 1 }[],
  dim: number,
  options: TrainOptions = defaultTrainOptions,
): Float64Array {
  const n = Math.max(1, examples.length);
  return adam(dim, options, (weights, grad) => {
    for (const { x, y } of examples) {
      const error = sigmoid(dot(weights, x)) - y;
      for (const [i, value] of x) grad[i] = (grad[i] as number) + (error * value) / n;
    }
  });
}

/** Multinomial logistic regression, one weight vector per class, stored class-major in one array. */
export function trainSoftmax(
  examples: readonly { x: SparseVector; y: number }[],
  dim: number,
  classes: number,
  options: TrainOptions = defaultTrainOptions,
): Float64Array[] {
  const n = Math.max(1, examples.length);
  const flat = adam(dim * classes, options, (weights, grad) => {
    for (const { x, y } of examples) {
      const scores = Array.from({ length: classes }, (_, c) => {
        let sum = 0;
        for (const [i, value] of x) sum += (weights[c * dim + i] as number) * value;
        return sum;
      });
      softmax(scores).forEach((p, c) => {
        const error = p - (c === y ? 1 : 0);
        for (const [i, value] of x) grad[c * dim + i] = (grad[c * dim + i] as number) + (error * value) / n;
      });
    }
  });
  return Array.from({ length: classes }, (_, c) => flat.slice(c * dim, (c + 1) * dim));
}
