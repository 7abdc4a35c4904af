import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { repoRoot } from "../../stack/paths.ts";
import { ensurePromtool } from "../../stack/promtool.ts";

const rulesFile = join(repoRoot, "deploy", "prometheus", "tiergate-rules.yml");
const testsFile = join(repoRoot, "test", "integration", "deploy", "alerts", "tiergate-rules.test.yml");
const grafanaFile = join(repoRoot, "deploy", "grafana", "tiergate-alerts.json");

function promtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync("promtool", args, { cwd: repoRoot, encoding: "utf8" });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

/** Alert names in the order the rules file declares them. */
function alertNames(): string[] {
  return [...readFileSync(rulesFile, "utf8").matchAll(/^\s*- alert: (\w+)$/gm)].map((m) => m[1] as string);
}

/** Per alert: how many promtool cases expect it quiet and how many expect it firing. */
function casesPerAlert(): Map<string, { quiet: number; firing: number }> {
  const cases = new Map<string, { quiet: number; firing: number }>();
  const text = readFileSync(testsFile, "utf8");
  for (const m of text.matchAll(/alertname: (\w+)\n\s*exp_alerts:( \[\])?/g)) {
    const entry = cases.get(m[1] as string) ?? { quiet: 0, firing: 0 };
    if (m[2]) entry.quiet++;
    else entry.firing++;
    cases.set(m[1] as string, entry);
  }
  return cases;
}

beforeAll(async () => {
  await ensurePromtool();
}, 600_000);

describe("Prometheus alert rules", () => {
  it("are valid rules", () => {
    const result = promtool(["check", "rules", rulesFile]);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("pass promtool's unit tests on synthetic series", () => {
    const result = promtool(["test", "rules", testsFile]);
    expect(result.output).toContain("SUCCESS");
    expect(result.status).toBe(0);
  });

  it("every alert has a case that fires and one that stays quiet", () => {
    const names = alertNames();
    expect(names.length).toBeGreaterThanOrEqual(12);
    const cases = casesPerAlert();
    for (const name of names) {
      expect(cases.get(name)?.firing ?? 0, `${name} firing cases`).toBeGreaterThan(0);
      expect(cases.get(name)?.quiet ?? 0, `${name} quiet cases`).toBeGreaterThan(0);
    }
  });

  it("cover the four signals, the event pipeline, breakers and capacity", () => {
    expect(alertNames()).toEqual(
      expect.arrayContaining([
        "TiergateTierLatencyOverBudget",
        "TiergateCacheHitRatioFalling",
        "TiergateFallbackRateRising",
        "TiergateDriftScoreHigh",
        "TiergateEventSpoolDeep",
        "TiergateEventsDropped",
        "TiergateBreakerOpened",
      ]),
    );
  });

  it("the Grafana dashboard has a panel for each signal alert, with the rule's threshold", () => {
    const dashboard = JSON.parse(readFileSync(grafanaFile, "utf8")) as {
      panels: { title: string; targets?: { expr: string }[]; fieldConfig?: unknown }[];
    };
    const rules = readFileSync(rulesFile, "utf8");
    const byAlert = new Map<string, { expr: string; threshold: number | undefined }>();
    for (const panel of dashboard.panels) {
      const alert = /\[(Tiergate\w+)\]/.exec(panel.title)?.[1];
      if (!alert) continue;
      const steps = JSON.stringify(panel.fieldConfig ?? {}).match(/"value":([0-9.]+)/g) ?? [];
      const threshold = steps.map((s) => Number(s.split(":")[1])).find((v) => v > 0);
      byAlert.set(alert, { expr: panel.targets?.map((t) => t.expr).join(" ") ?? "", threshold });
    }
    for (const name of alertNames()) expect(byAlert.has(name), `${name} panel`).toBe(true);
    // Where a rule has a fixed threshold, the panel's red line is at the same value.
    const fixed: Record<string, number> = {
      TiergateFallbackRateRising: 0.05,
      TiergateEventSpoolDeep: 1000,
      TiergatePoolShedding: 0.05,
    };
    for (const [alert, value] of Object.entries(fixed)) {
      expect(rules).toContain(`> ${value}`);
      expect(byAlert.get(alert)?.threshold, alert).toBe(value);
    }
  });
});
