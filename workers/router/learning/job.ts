import { withRetry } from "../../../shared/retry.ts";
import type { ClickHouse } from "../../clickhouse/client.ts";
import type { Database } from "../../db/client.ts";
import { releaseLease, tryAcquireLease } from "../../drift/lease.ts";
import { loadAdjustment, saveAdjustment } from "./adjustments.ts";
import { initialClassState, type LearningAction, type LearningPolicy, stepClass } from "./policy.ts";
import { type ClassTierRatings, readClassRatings } from "./windows.ts";

export interface RouteLearningDeps {
  db: Database;
  clickhouse: ClickHouse;
  policy: LearningPolicy;
  windowMs: number;
  /** Name of the Postgres lease (default "route-learning"); tests use their own. */
  leaseName?: string;
  /** Only these tenants (tests; default every tenant with ratings in the window). */
  tenants?: readonly string[];
}

/** What one window did to one tenant's task class. */
export interface ClassReport {
  tenant: string;
  taskClass: string;
  /** The tier whose ratings were judged (the one serving most rated answers of the class). */
  tier: string;
  rated: number;
  good: number;
  action: LearningAction | "already_evaluated";
  shift: number;
  reason: string;
}

export type RouteLearningReport =
  | { ran: true; classes: ClassReport[] }
  | { ran: false; skipped: "lease held" };

export const routeLearningLeaseName = "route-learning";
const actor = "route-learning";

/** Per tenant and task class, the tier serving most rated answers and its ratings. */
function servingTier(rows: readonly ClassTierRatings[]): ClassTierRatings[] {
  const best = new Map<string, ClassTierRatings>();
  for (const row of rows) {
    const key = `${row.tenant}\u0000${row.taskClass}`;
    const seen = best.get(key);
    if (!seen || row.rated > seen.rated) best.set(key, row);
  }
  return [...best.values()];
}

/** One window ending at `now` for one tenant's task class: step the state machine, save, audit a change. */
async function learnClass(
  deps: RouteLearningDeps,
  ratings: ClassTierRatings,
  now: number,
): Promise<ClassReport> {
  const stored = await loadAdjustment(deps.db, ratings.tenant, ratings.taskClass);
  const base = {
    tenant: ratings.tenant,
    taskClass: ratings.taskClass,
    tier: ratings.tier,
    rated: ratings.rated,
    good: ratings.good,
  };
  if (stored?.lastWindowEnd && now - stored.lastWindowEnd.getTime() < deps.windowMs / 2) {
    return { ...base, action: "already_evaluated", shift: stored.shift, reason: "window evaluated already" };
  }
  const state = stored ?? { ...initialClassState };
  const decision = stepClass(state, ratings, deps.policy);
  const changed = decision.state.shift !== state.shift;
  const reason = `${decision.reason} on ${ratings.tier}; window ending ${new Date(now).toISOString()}`;
  await saveAdjustment(
    deps.db,
    { tenant: ratings.tenant, taskClass: ratings.taskClass, ...decision.state, lastWindowEnd: new Date(now) },
    changed ? { from: state.shift, actor, reason } : undefined,
  );
  return { ...base, action: decision.action, shift: decision.state.shift, reason };
}

/**
 * Learns from the window [now − windowMs, now): every tenant's task class with ratings on its serving
 * tier takes one step of the state machine.
 */
export async function runRouteLearning(deps: RouteLearningDeps, now: number): Promise<ClassReport[]> {
  const rows = await withRetry(
    () => readClassRatings(deps.clickhouse, { fromMs: now - deps.windowMs, toMs: now }),
    { attempts: 3, baseDelayMs: 200 },
  );
  const only = deps.tenants ? new Set(deps.tenants) : undefined;
  const reports: ClassReport[] = [];
  for (const ratings of servingTier(rows)) {
    if (only && !only.has(ratings.tenant)) continue;
    reports.push(await learnClass(deps, ratings, now));
  }
  return reports;
}

/** `runRouteLearning` under a Postgres lease, so two triggers at once run it once. */
export async function runRouteLearningWithLease(
  deps: RouteLearningDeps,
  now: number,
  holder: string = crypto.randomUUID(),
): Promise<RouteLearningReport> {
  const lease = deps.leaseName ?? routeLearningLeaseName;
  if (!(await tryAcquireLease(deps.db, { name: lease, holder, ttlMs: deps.windowMs })))
    return { ran: false, skipped: "lease held" };
  try {
    return { ran: true, classes: await runRouteLearning(deps, now) };
  } finally {
    await releaseLease(deps.db, lease, holder).catch(() => undefined);
  }
}
