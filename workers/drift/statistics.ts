/** Small, dependency-free statistics for drift detection. Every function is pure and deterministic. */

/** A seeded PRNG (mulberry32), so projections and synthetic scenarios repeat exactly. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normal samples from a uniform source (Box–Muller). */
export function gaussian(random: () => number): number {
  const u = Math.max(random(), 1e-12);
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}

/** A fixed dims×k Gaussian random projection (Johnson–Lindenstrauss), the same for the same seed. */
export function randomProjection(dims: number, k: number, seed: number): Float64Array[] {
  const random = seededRandom(seed);
  return Array.from({ length: k }, () => {
    const row = new Float64Array(dims);
    for (let i = 0; i < dims; i++) row[i] = gaussian(random) / Math.sqrt(k);
    return row;
  });
}

/** Projects each vector onto every row of the projection: k one-dimensional samples. */
export function project(
  vectors: readonly (readonly number[])[],
  projection: readonly Float64Array[],
): number[][] {
  return projection.map((row) =>
    vectors.map((vector) => {
      let sum = 0;
      const n = Math.min(row.length, vector.length);
      for (let i = 0; i < n; i++) sum += (row[i] ?? 0) * (vector[i] ?? 0);
      return sum;
    }),
  );
}

export function mean(values: readonly number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}

/** The q-quantile (0..1) by linear interpolation on a sorted copy. */
export function quantile(values: readonly number[], q: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * Math.min(1, Math.max(0, q));
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  const a = sorted[lo] ?? 0;
  const b = sorted[hi] ?? a;
  return a + (b - a) * (pos - lo);
}

const psiEpsilon = 1e-4;

/**
 * Population stability index of `current` against `reference`, with bins at the reference's quantiles.
 * Rule of thumb: < 0.1 stable, 0.1–0.25 moderate shift, > 0.25 significant shift.
 */
export function psi(reference: readonly number[], current: readonly number[], bins = 10): number {
  if (reference.length === 0 || current.length === 0) return 0;
  const edges: number[] = [];
  for (let i = 1; i < bins; i++) edges.push(quantile(reference, i / bins));
  const histogram = (values: readonly number[]) => {
    const counts = new Array<number>(bins).fill(0);
    for (const v of values) {
      let bin = 0;
      while (bin < edges.length && v > (edges[bin] ?? Number.POSITIVE_INFINITY)) bin++;
      counts[bin] = (counts[bin] ?? 0) + 1;
    }
    return counts.map((c) => Math.max(c / values.length, psiEpsilon));
  };
  const r = histogram(reference);
  const c = histogram(current);
  let total = 0;
  for (let i = 0; i < bins; i++) {
    const ri = r[i] ?? psiEpsilon;
    const ci = c[i] ?? psiEpsilon;
    total += (ci - ri) * Math.log(ci / ri);
  }
  return total;
}

/** PSI over categories (task mix): shares of each label, with the same epsilon floor. */
export function categoricalPsi(reference: readonly string[], current: readonly string[]): number {
  if (reference.length === 0 || current.length === 0) return 0;
  const labels = new Set([...reference, ...current]);
  const share = (values: readonly string[], label: string) =>
    Math.max(values.filter((v) => v === label).length / values.length, psiEpsilon);
  let total = 0;
  for (const label of labels) {
    const r = share(reference, label);
    const c = share(current, label);
    total += (c - r) * Math.log(c / r);
  }
  return total;
}

/** Mean PSI over the k projected directions of two embedding samples. */
export function embeddingPsi(
  reference: readonly (readonly number[])[],
  current: readonly (readonly number[])[],
  projection: readonly Float64Array[],
  bins = 10,
): number {
  if (reference.length === 0 || current.length === 0) return 0;
  const r = project(reference, projection);
  const c = project(current, projection);
  return mean(r.map((dim, i) => psi(dim, c[i] ?? [], bins)));
}

/** Wilson score interval of a proportion, for accuracy with few samples. */
export function wilsonInterval(successes: number, n: number, z = 1.96): { low: number; high: number } {
  if (n === 0) return { low: 0, high: 1 };
  const p = successes / n;
  const denom = 1 + (z * z) / n;
  const centre = (p + (z * z) / (2 * n)) / denom;
  const half = (z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n))) / denom;
  return { low: Math.max(0, centre - half), high: Math.min(1, centre + half) };
}
