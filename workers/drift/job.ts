import { withRetry } from "../../shared/retry.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import type { Database } from "../db/client.ts";
import type { DriftStateRow } from "../db/schema.ts";
import type { ActiveChange } from "../registry/store.ts";
import { type DriftAlert, postWebhook, recordAlert } from "./alerts.ts";
import { releaseLease, tryAcquireLease } from "./lease.ts";
import { type DriftAction, decide, type RollbackPolicy } from "./policy.ts";
import { type DriftResult, type DriftThresholds, driftScore } from "./score.ts";
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
  if (!(await tryAcquireLease(deps.db, lease, holder, deps.windowMs))) {
    return { ran: false, skipped: "lease held" };
  }
  try {
    return { ran: true, tiers: await runDriftJob(deps, options) };
  } finally {
    await releaseLease(deps.db, lease, holder).catch((error: unknown) =>
      console.warn("drift lease not released (it expires by itself):", error),
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
      console.warn(`drift job: tier ${tier.tier} failed:`, message);
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

async function evaluateTier(deps: DriftJobDeps, tier: WatchedTier, now: number): Promise<TierReport> {
  const state = stateFor(tier, await loadDriftState(deps.db, tier.tier));
  const base = { tier: tier.tier, modelVersion: tier.activeVersion };
  // A window ending less than half a window after the last one has been evaluated already.
  if (state.lastWindowEnd && now - state.lastWindowEnd.getTime() < deps.windowMs / 2) {
    return { ...base, outcome: "already_evaluated", requests: 0 };
  }
  const range = { tier: tier.tier, modelVersion: tier.activeVersion, fromMs: now - deps.windowMs, toMs: now };
  const read = (window: WindowRange) =>
    withRetry(() => readWindowSample(deps.clickhouse, window), {
      attempts: 3,
      baseDelayMs: 200,
      onRetry: deps.onRetry,
    });
  const current = await read(range);

  // The reference rule: the first full window after promotion with at least minRequests requests.
  if (!state.referenceFrom || !state.referenceTo) {
    const captured = current.requests >= deps.thresholds.minRequests;
    await saveDriftState(deps.db, {
      ...state,
      referenceFrom: captured ? new Date(range.fromMs) : null,
      referenceTo: captured ? new Date(range.toMs) : null,
      lastWindowEnd: new Date(now),
    });
    return {
      ...base,
      outcome: captured ? "reference_captured" : "waiting_for_reference",
      requests: current.requests,
    };
  }

  const reference = await read({
    ...range,
    fromMs: state.referenceFrom.getTime(),
    toMs: state.referenceTo.getTime(),
  });
  const result = driftScore(reference, current, deps.thresholds);
  const decision = decide(
    { window: state.window, breaches: state.breaches, cooldownUntil: state.cooldownUntil },
    result,
    { hasPrevious: tier.hasPrevious, pinned: tier.pinned },
    deps.thresholds,
    deps.policy,
  );
  const components = scoreComponents(result, current.requests);
  await deps.clickhouse.insert("drift_scores", [
    { ts: now, tier: tier.tier, model_version: tier.activeVersion, score: result.score, components },
  ]);
  await saveDriftState(deps.db, { ...state, ...decision.state, lastWindowEnd: new Date(now) });

  const report: TierReport = {
    ...base,
    outcome: "evaluated",
    requests: current.requests,
    score: result.score,
    accuracy: result.accuracy?.value ?? null,
    action: decision.action,
    reason: decision.reason,
  };
  const blocked = decision.action === "blocked_pinned" || decision.action === "blocked_no_previous";
  // A blocked rollback alerts once, when its streak first reaches K, not on every window after.
  const alertBlocked = blocked && decision.state.breaches === deps.policy.consecutiveWindows;
  if (decision.action !== "rollback" && !alertBlocked) return report;

  const reason = `${decision.reason}; window ${new Date(range.fromMs).toISOString()}–${new Date(range.toMs).toISOString()}, requests=${current.requests}, score=${result.score.toFixed(3)}${result.accuracy ? `, accuracy=${result.accuracy.value.toFixed(3)} [${result.accuracy.low.toFixed(3)}, ${result.accuracy.high.toFixed(3)}] n=${result.accuracy.labelled}` : ""}`;
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
  report.reason = reason;
  await recordAlert(deps.clickhouse, alert);
  await postWebhook(deps.webhookUrl, alert, deps.webhookTimeoutMs);
  return report;
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
