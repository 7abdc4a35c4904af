import { categoricalPsi, embeddingPsi, psi, randomProjection, wilsonInterval } from "./statistics.ts";

/** What one window of traffic for one tier and model version looks like to the drift job. */
export interface WindowSample {
  /** Prompt embeddings (a sample of them), 384-d MiniLM locally. */
  embeddings: number[][];
  promptLengths: number[];
  /** Task labels from the classifier (classify, extract, generate, chat…). */
  tasks: string[];
  confidences: number[];
  /** Best retrieval relevance per RAG request, in [0, 1]. */
  relevanceScores: number[];
  answerLengths: number[];
  requests: number;
  fallbacks: number;
  /** Labelled feedback joined to this window's requests. */
  labelled: number;
  correct: number;
  /**
   * The same feedback per tenant, with each tenant's requests in the window. When given, accuracy is
   * weighted by traffic share (see `tenantWeightedAccuracy`); without it, every label counts alike.
   */
  feedbackByTenant?: TenantFeedback[];
}

/** One tenant's labelled feedback on its own requests of a window. */
export interface TenantFeedback {
  tenant: string;
  /** The tenant's requests in the window (labelled or not). */
  requests: number;
  labelled: number;
  correct: number;
}

/**
 * Accuracy in which no tenant weighs more than its share of the window's traffic: 1 − Σ share_t ×
 * error_t over tenants with labels, where share_t = requests_t / all requests. Traffic nobody labelled
 * is not judged, so a tenant with 10% of a shared tier's requests can lower its accuracy by at most 0.1,
 * however many labels it sends; a tier only one tenant uses is judged by that tenant's labels alone.
 */
export function tenantWeightedAccuracy(tenants: readonly TenantFeedback[], requests: number): number {
  const total = Math.max(
    requests,
    tenants.reduce((sum, t) => sum + t.requests, 0),
  );
  if (total === 0) return 1;
  let error = 0;
  for (const t of tenants) {
    if (t.labelled === 0) continue;
    error += (Math.min(t.requests, total) / total) * (1 - t.correct / t.labelled);
  }
  return 1 - error;
}

export interface DriftThresholds {
  /** A component at this PSI counts as 1.0 in the score (0.25 = "significant shift"). */
  psiAlarm: number;
  /** An absolute rise of the fallback rate that counts as 1.0. */
  fallbackRateAlarm: number;
  /** Requests a window needs before its drift score counts. */
  minRequests: number;
  /** Labelled feedback a window needs before its accuracy counts. */
  minLabelled: number;
  /** Accuracy below this (with enough labels) is a breach on its own. */
  accuracyFloor: number;
  /** The score above which a window is a breach. */
  scoreThreshold: number;
  projectionDims: number;
  projectionSeed: number;
}

export const defaultDriftThresholds: DriftThresholds = {
  psiAlarm: 0.25,
  fallbackRateAlarm: 0.1,
  minRequests: 100,
  minLabelled: 30,
  accuracyFloor: 0.75,
  scoreThreshold: 1,
  projectionDims: 8,
  projectionSeed: 20_261_125,
};

export interface DriftComponents {
  embedding_psi: number;
  prompt_length_psi: number;
  task_mix_psi: number;
  confidence_psi: number;
  relevance_psi: number;
  answer_length_psi: number;
  fallback_rate_delta: number;
}

export interface DriftResult {
  /** max over components of (component / its alarm level); > scoreThreshold is a breach. */
  score: number;
  components: DriftComponents;
  enoughRequests: boolean;
  /** Null when there were too few labels. */
  accuracy: { value: number; low: number; high: number; labelled: number } | null;
}

const bins = 10;

/**
 * PSI minus its expected value under no drift, so small windows do not alarm by noise alone:
 * for k bins, E[PSI] ≈ (k − 1)(1/n_ref + 1/n_cur).
 */
function adjustedPsi(value: number, nRef: number, nCur: number, k = bins): number {
  if (nRef === 0 || nCur === 0) return 0;
  return Math.max(0, value - (k - 1) * (1 / nRef + 1 / nCur));
}

const projections = new Map<string, Float64Array[]>();
function projectionFor(dims: number, k: number, seed: number): Float64Array[] {
  const key = `${dims}:${k}:${seed}`;
  let projection = projections.get(key);
  if (!projection) {
    projection = randomProjection(dims, k, seed);
    projections.set(key, projection);
  }
  return projection;
}

/** Compares the current window with the reference window captured at promotion. */
export function driftScore(
  reference: WindowSample,
  current: WindowSample,
  thresholds: DriftThresholds = defaultDriftThresholds,
): DriftResult {
  const dims = reference.embeddings[0]?.length ?? current.embeddings[0]?.length ?? 0;
  const numeric = (r: number[], c: number[]) => adjustedPsi(psi(r, c, bins), r.length, c.length);
  const labelsR = new Set(reference.tasks).size;
  const labelsC = new Set([...reference.tasks, ...current.tasks]).size;
  const components: DriftComponents = {
    embedding_psi:
      dims === 0
        ? 0
        : adjustedPsi(
            embeddingPsi(
              reference.embeddings,
              current.embeddings,
              projectionFor(dims, thresholds.projectionDims, thresholds.projectionSeed),
              bins,
            ),
            reference.embeddings.length,
            current.embeddings.length,
          ),
    prompt_length_psi: numeric(reference.promptLengths, current.promptLengths),
    task_mix_psi: adjustedPsi(
      categoricalPsi(reference.tasks, current.tasks),
      reference.tasks.length,
      current.tasks.length,
      Math.max(labelsR, labelsC),
    ),
    confidence_psi: numeric(reference.confidences, current.confidences),
    relevance_psi: numeric(reference.relevanceScores, current.relevanceScores),
    answer_length_psi: numeric(reference.answerLengths, current.answerLengths),
    fallback_rate_delta: Math.max(
      0,
      rate(current.fallbacks, current.requests) - rate(reference.fallbacks, reference.requests),
    ),
  };
  const { fallback_rate_delta, ...psis } = components;
  const score = Math.max(
    fallback_rate_delta / thresholds.fallbackRateAlarm,
    ...Object.values(psis).map((v) => v / thresholds.psiAlarm),
  );
  const accuracy = current.labelled >= thresholds.minLabelled ? accuracyOf(current) : null;
  return { score, components, enoughRequests: current.requests >= thresholds.minRequests, accuracy };
}

/** Accuracy of a window with enough labels: per-tenant weighted when the tenants are known. */
function accuracyOf(current: WindowSample): NonNullable<DriftResult["accuracy"]> {
  if (!current.feedbackByTenant) {
    return {
      value: current.correct / current.labelled,
      labelled: current.labelled,
      ...wilsonInterval(current.correct, current.labelled),
    };
  }
  const value = tenantWeightedAccuracy(current.feedbackByTenant, current.requests);
  // The interval of the weighted value, from its effective successes among all labels.
  const interval = wilsonInterval(Math.round(value * current.labelled), current.labelled);
  return { value, labelled: current.labelled, ...interval };
}

function rate(part: number, total: number): number {
  return total === 0 ? 0 : part / total;
}
