import { defaultRollbackPolicy } from "../../workers/drift/policy.ts";
import { defaultDriftThresholds } from "../../workers/drift/score.ts";
import { writeResults } from "../stack/paths.ts";
import { replayScenario } from "./drift-replay.ts";
import { changeKinds, defaultScenario, quietKinds, type ScenarioKind } from "./drift-scenarios.ts";

/**
 * `npm run eval:drift`: repeated random scenarios through the drift score and rollback policy with the
 * shipped defaults. Prints detection delay (windows from the change to the rollback) and false alarms.
 */
const runs = Number(process.argv[2] ?? 40);

interface Row {
  kind: ScenarioKind;
  runs: number;
  detected: number;
  mean_delay_windows: number | null;
  false_alarms: number;
  breach_windows_before_change: number;
  windows_before_change: number;
}

const rows: Row[] = [];
for (const kind of [...quietKinds, ...changeKinds]) {
  let detected = 0;
  let delaySum = 0;
  let falseAlarms = 0;
  let earlyBreaches = 0;
  let earlyWindows = 0;
  for (let seed = 1; seed <= runs; seed++) {
    const options = { ...defaultScenario, kind, seed: seed * 7919 };
    const replay = replayScenario(options);
    const expectRollback = changeKinds.includes(kind);
    const early = replay.rollbacks.filter((w) => w < options.changeAt);
    const late = replay.rollbacks.filter((w) => w >= options.changeAt);
    if (!expectRollback) falseAlarms += replay.rollbacks.length > 0 ? 1 : 0;
    else if (early.length > 0) falseAlarms += 1;
    const first = late[0];
    if (expectRollback && first !== undefined && early.length === 0) {
      detected++;
      delaySum += first - options.changeAt + 1;
    }
    const before = replay.breaches.slice(0, options.changeAt);
    earlyBreaches += before.filter(Boolean).length;
    earlyWindows += before.length;
  }
  rows.push({
    kind,
    runs,
    detected,
    mean_delay_windows: detected > 0 ? delaySum / detected : null,
    false_alarms: falseAlarms,
    breach_windows_before_change: earlyBreaches,
    windows_before_change: earlyWindows,
  });
}

const quietRuns = rows.filter((r) => quietKinds.includes(r.kind)).reduce((s, r) => s + r.runs, 0);
const allRuns = rows.reduce((s, r) => s + r.runs, 0);
const falseAlarmScenarios = rows.reduce((s, r) => s + r.false_alarms, 0);
const changeRows = rows.filter((r) => changeKinds.includes(r.kind));
const detectedTotal = changeRows.reduce((s, r) => s + r.detected, 0);
const delayTotal = changeRows.reduce((s, r) => s + (r.mean_delay_windows ?? 0) * r.detected, 0);
const summary = {
  runs_per_kind: runs,
  thresholds: defaultDriftThresholds,
  policy: defaultRollbackPolicy,
  false_alarm_rate: falseAlarmScenarios / allRuns,
  false_alarm_rate_quiet_scenarios:
    rows.filter((r) => quietKinds.includes(r.kind)).reduce((s, r) => s + r.false_alarms, 0) / quietRuns,
  window_breach_rate_before_change:
    rows.reduce((s, r) => s + r.breach_windows_before_change, 0) /
    rows.reduce((s, r) => s + r.windows_before_change, 0),
  detection_rate: detectedTotal / changeRows.reduce((s, r) => s + r.runs, 0),
  mean_detection_delay_windows: detectedTotal > 0 ? delayTotal / detectedTotal : null,
  rows,
};

console.log(
  "scenario               runs  detected  mean delay (windows)  false alarms  breach windows before change",
);
for (const r of rows) {
  console.log(
    `${r.kind.padEnd(22)} ${String(r.runs).padStart(4)}  ${String(r.detected).padStart(8)}  ${(r.mean_delay_windows?.toFixed(2) ?? "-").padStart(20)}  ${String(r.false_alarms).padStart(12)}  ${`${r.breach_windows_before_change}/${r.windows_before_change}`.padStart(28)}`,
  );
}
console.log(
  `\nfalse alarm rate ${summary.false_alarm_rate.toFixed(3)} (quiet scenarios ${summary.false_alarm_rate_quiet_scenarios.toFixed(3)}), detection rate ${summary.detection_rate.toFixed(3)}, mean detection delay ${summary.mean_detection_delay_windows?.toFixed(2) ?? "-"} windows`,
);
writeResults("eval-drift", summary);
