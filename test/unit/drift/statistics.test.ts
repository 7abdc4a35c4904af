import { describe, expect, it } from "vitest";
import {
  categoricalPsi,
  embeddingPsi,
  gaussian,
  psi,
  quantile,
  randomProjection,
  seededRandom,
  wilsonInterval,
} from "../../../workers/drift/statistics.ts";

const normal = (seed: number, n: number, shift = 0) => {
  const random = seededRandom(seed);
  return Array.from({ length: n }, () => gaussian(random) + shift);
};

describe("drift statistics", () => {
  it("repeats the same random stream and projection for a seed", () => {
    expect(normal(1, 5)).toEqual(normal(1, 5));
    expect(normal(1, 5)).not.toEqual(normal(2, 5));
    expect(randomProjection(4, 2, 9)).toEqual(randomProjection(4, 2, 9));
  });

  it("computes quantiles by interpolation", () => {
    expect(quantile([3, 1, 2, 4], 0.5)).toBe(2.5);
    expect(quantile([1, 2, 3], 0)).toBe(1);
    expect(quantile([1, 2, 3], 1)).toBe(3);
  });

  it("gives PSI near zero for the same distribution and large for a shifted one", () => {
    const reference = normal(1, 5_000);
    expect(psi(reference, normal(2, 5_000))).toBeLessThan(0.02);
    expect(psi(reference, normal(3, 5_000, 1))).toBeGreaterThan(0.5);
  });

  it("measures a change in category shares", () => {
    const reference = [...Array(50).fill("a"), ...Array(50).fill("b")];
    expect(categoricalPsi(reference, reference)).toBe(0);
    expect(categoricalPsi(reference, [...Array(90).fill("a"), ...Array(10).fill("b")])).toBeGreaterThan(0.5);
  });

  it("detects a shift of embeddings through a random projection", () => {
    const random = seededRandom(5);
    const make = (offset: number) =>
      Array.from({ length: 400 }, () =>
        Array.from({ length: 32 }, (_, i) => gaussian(random) + (i < 8 ? offset : 0)),
      );
    const projection = randomProjection(32, 8, 1);
    const reference = make(0);
    expect(embeddingPsi(reference, make(0), projection)).toBeLessThan(0.15);
    expect(embeddingPsi(reference, make(3), projection)).toBeGreaterThan(0.5);
  });

  it("bounds a proportion with the Wilson interval", () => {
    const few = wilsonInterval(4, 5);
    const many = wilsonInterval(800, 1_000);
    expect(few.low).toBeLessThan(0.8);
    expect(few.high).toBeGreaterThan(0.8);
    expect(many.high - many.low).toBeLessThan(few.high - few.low);
  });
});
