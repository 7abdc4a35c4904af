import type { Logger } from "../../shared/logger.ts";
import { withRetry } from "../../shared/retry.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { Database } from "../db/client.ts";
import type { DriftStateRow } from "../db/schema.ts";
import type { ActiveChange } from "../registry/store.ts";
import { type DriftAlert, postWebhook, recordAlert } from "./alerts.ts";
import { releaseLease, tryAcquireLease } from "./lease.ts";
import { type DriftAction, type DriftDecision, decide, type RollbackPolicy } from "./policy.ts";
import { type DriftResult, type DriftThresholds, driftScore, type WindowSample } from "./score.ts";
import { loadDriftState, saveDriftState, type WatchedTier, watchedTiers } from "./state.ts";
import { readWindowSample, type WindowRange } from "./windows.ts";

export interface DriftJobDeps {
  db: Database;
  clickhouse: ClickHouse;
  /** Makes the tier's previous version active (RoutingService.rollback: audit row + router refresh). */
  rollback(tier: string, reason: string, actor: string): Promise<ActiveChange>;
  thresholds: DriftThresholds;
  policy: RollbackPolicy;
  windowMs: number;
  webhookUrl?: string;
  webhookTimeoutMs: number;
  /** Name of the Postgres lease (default "drift-job"); tests use their own. */
  leaseName?: string;
  /** Failed tiers, an unreleased lease and webhook failures are logged here. */
  logger: Logger;
  /** Told about every retried ClickHouse read (logs; tests count them). */
  onRetry?: (error: unknown, attempt: number) => void;
}

export interface DriftRunOptions {
  /** End of the window to evaluate (epoch ms); the window is [now − windowMs, now). */
  now: number;
  /** Only these tiers (default: every tier with an active version). */
  tiers?: readonly string[];
}

export type TierOutcome =
  | "waiting_for_reference"
  | "reference_captured"
  | "already_evaluated"
  | "evaluated"
  | "failed";

export interface TierReport {
  tier: string;
  modelVersion: string;
  outcome: TierOutcome;
  requests: number;
  score?: number;
  accuracy?: number | null;
  action?: DriftAction;
  reason?: string;
  rolledBackTo?: string;
  error?: string;
}

export type DriftRunReport = { ran: true; tiers: TierReport[] } | { ran: false; skipped: "lease held" };

/** The Postgres lease every drift trigger competes for. */
export const driftLeaseName = "drift-job";
const actor = "drift-job";

/**
 * One drift run over every watched tier, under a Postgres lease so two triggers at once (the Workers
 * cron and the Bun scheduler, or two regions' crons) run it once: the second reports `lease held`.
 */
export async function runDriftJobWithLease(
  deps: DriftJobDeps,
  options: DriftRunOptions,
  holder: string = crypto.randomUUID(),
): Promise<DriftRunReport> {
  // The lease outlives a slow run (up to one window) but not a crashed holder's next period.
  const lease = deps.leaseName ?? driftLeaseName;
  if (!(await tryAcquireLease(deps.db, { name: lease, holder, ttlMs: deps.windowMs }))) {
    return { ran: false, skipped: "lease held" };
  }
  try {
    return { ran: true, tiers: await runDriftJob(deps, options) };
  } finally {
    await releaseLease(deps.db, lease, holder).catch((error: unknown) =>
      deps.logger.warn("drift lease not released (it expires by itself)", { lease, error }),
    );
  }
}

/**
 * Evaluates every watched tier; one tier's failure is reported and does not stop the others. A failed
 * tier keeps its state, so the next run evaluates it again (ClickHouse reads are retried first).
 */
export async function runDriftJob(deps: DriftJobDeps, options: DriftRunOptions): Promise<TierReport[]> {
  const reports: TierReport[] = [];
  for (const tier of await watchedTiers(deps.db, options.tiers)) {
    try {
      reports.push(await evaluateTier(deps, tier, options.now));
    } catch (error: unknown) {
      const message = error instanceof Error ? error.message : String(error);
      deps.logger.warn("drift job: tier failed", { tier: tier.tier, error });
      reports.push({
        tier: tier.tier,
        modelVersion: tier.activeVersion,
        outcome: "failed",
        requests: 0,
        error: message,
      });
    }
  }
  return reports;
}

/**
 * The state of a tier for its active version. A new active version (a promotion or a rollback) starts
 * without a reference and without a breach streak; the window counter and the cooldown carry over, so a
 * rollback's cooldown also holds for the version rolled back to.
 */
function stateFor(tier: WatchedTier, stored: DriftStateRow | undefined): Omit<DriftStateRow, "updatedAt"> {
  if (stored && stored.modelVersion === tier.activeVersion) return stored;
  return {
    tier: tier.tier,
    modelVersion: tier.activeVersion,
    referenceFrom: null,
    referenceTo: null,
    window: stored?.window ?? 0,
    breaches: 0,
    cooldownUntil: stored?.cooldownUntil ?? 0,
    lastWindowEnd: null,
  };
}

/** One tier's current window: what the steps of {@link evaluateTier} work on. */
interface TierWindow {
  tier: WatchedTier;
  state: Omit<DriftStateRow, "updatedAt">;
  range: WindowRange;
  now: number;
  current: WindowSample;
}

/** Reads a window, retrying ClickHouse failures (each retry is told to `deps.onRetry`). */
function readWindow(deps: DriftJobDeps, window: WindowRange): Promise<WindowSample> {
  return withRetry(() => readWindowSample(deps.clickhouse, window), {
    attempts: 3,
    baseDelayMs: 200,
    onRetry: deps.onRetry,
  });
}

/** One tier: skip a window evaluated already, capture the reference, or score the window against it. */
async function evaluateTier(deps: DriftJobDeps, tier: WatchedTier, now: number): Promise<TierReport> {
  const state = stateFor(tier, await loadDriftState(deps.db, tier.tier));
  // A window ending less than half a window after the last one has been evaluated already.
  if (state.lastWindowEnd && now - state.lastWindowEnd.getTime() < deps.windowMs / 2) {
    return { tier: tier.tier, modelVersion: tier.activeVersion, outcome: "already_evaluated", requests: 0 };
  }
  const range = { tier: tier.tier, modelVersion: tier.activeVersion, fromMs: now - deps.windowMs, toMs: now };
  const window: TierWindow = { tier, state, range, now, current: await readWindow(deps, range) };
  const { referenceFrom, referenceTo } = state;
  if (!referenceFrom || !referenceTo) return captureReference(deps, window);
  const reference = await readWindow(deps, {
    ...range,
    fromMs: referenceFrom.getTime(),
    toMs: referenceTo.getTime(),
  });
  return scoreWindow(deps, window, reference);
}

/** The reference rule: the first full window after promotion with at least minRequests requests. */
async function captureReference(deps: DriftJobDeps, window: TierWindow): Promise<TierReport> {
  const { tier, state, range, now, current } = window;
  const captured = current.requests >= deps.thresholds.minRequests;
  await saveDriftState(deps.db, {
    ...state,
    referenceFrom: captured ? new Date(range.fromMs) : null,
    referenceTo: captured ? new Date(range.toMs) : null,
    lastWindowEnd: new Date(now),
  });
  return {
    tier: tier.tier,
    modelVersion: tier.activeVersion,
    outcome: captured ? "reference_captured" : "waiting_for_reference",
    requests: current.requests,
  };
}

/**
 * Scores the window against the reference, stores the score and the new state, and raises an alert for
 * a rollback, or for a blocked one the first time its streak reaches K (not on every window after).
 */
async function scoreWindow(
  deps: DriftJobDeps,
  window: TierWindow,
  reference: WindowSample,
): Promise<TierReport> {
  const { tier, state, now, current } = window;
  const result = driftScore(reference, current, deps.thresholds);
  const decision = decide({
    state: { window: state.window, breaches: state.breaches, cooldownUntil: state.cooldownUntil },
    result,
    tier: { hasPrevious: tier.hasPrevious, pinned: tier.pinned },
    thresholds: deps.thresholds,
    policy: deps.policy,
  });
  const components = scoreComponents(result, current.requests);
  await deps.clickhouse.insert("drift_scores", [
    { ts: now, tier: tier.tier, model_version: tier.activeVersion, score: result.score, components },
  ]);
  await saveDriftState(deps.db, { ...state, ...decision.state, lastWindowEnd: new Date(now) });

  const report: TierReport = {
    tier: tier.tier,
    modelVersion: tier.activeVersion,
    outcome: "evaluated",
    requests: current.requests,
    score: result.score,
    accuracy: result.accuracy?.value ?? null,
    action: decision.action,
    reason: decision.reason,
  };
  const blocked = decision.action === "blocked_pinned" || decision.action === "blocked_no_previous";
  const alertBlocked = blocked && decision.state.breaches === deps.policy.consecutiveWindows;
  if (decision.action !== "rollback" && !alertBlocked) return report;
  return raiseAlert(deps, { window, decision, result, components, report });
}

/** What {@link raiseAlert} acts on. */
interface AlertInput {
  window: TierWindow;
  decision: DriftDecision;
  result: DriftResult;
  components: Record<string, number>;
  report: TierReport;
}

/** Rolls back (when decided), records the alert in ClickHouse and posts it to the webhook. */
async function raiseAlert(deps: DriftJobDeps, input: AlertInput): Promise<TierReport> {
  const { window, decision, result, components } = input;
  const { tier, now } = window;
  const reason = alertReason(window, decision, result);
  const report: TierReport = { ...input.report, reason };
  let toVersion = "";
  if (decision.action === "rollback") {
    const change = await deps.rollback(tier.tier, reason, actor);
    toVersion = change.to;
    report.rolledBackTo = change.to;
  }
  const alert: DriftAlert = {
    ts: now,
    tier: tier.tier,
    modelVersion: tier.activeVersion,
    action: decision.action,
    toVersion,
    score: result.score,
    reason,
    components,
  };
  await recordAlert(deps.clickhouse, alert);
  await postWebhook(alert, { url: deps.webhookUrl, timeoutMs: deps.webhookTimeoutMs, logger: deps.logger });
  return report;
}

/** The alert's reason: the decision's, then the window, its request count, score and accuracy. */
function alertReason(window: TierWindow, decision: DriftDecision, result: DriftResult): string {
  const { range, current } = window;
  const span = `${new Date(range.fromMs).toISOString()}–${new Date(range.toMs).toISOString()}`;
  const accuracy = result.accuracy
    ? `, accuracy=${result.accuracy.value.toFixed(3)} [${result.accuracy.low.toFixed(3)}, ${result.accuracy.high.toFixed(3)}] n=${result.accuracy.labelled}`
    : "";
  return `${decision.reason}; window ${span}, requests=${current.requests}, score=${result.score.toFixed(3)}${accuracy}`;
}

/** The components as stored in `drift_scores` (plus accuracy and counts, when known). */
function scoreComponents(result: DriftResult, requests: number): Record<string, number> {
  const out: Record<string, number> = { ...result.components, requests };
  if (result.accuracy) {
    out.accuracy = result.accuracy.value;
    out.labelled = result.accuracy.labelled;
  }
  return out;
}
