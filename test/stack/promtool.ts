import { aptInstall, hasCommand } from "./process.ts";

/**
 * Makes sure Prometheus's `promtool` is on PATH (Debian's `prometheus` package ships it), so the alert
 * rules can be checked and unit-tested with Prometheus's own evaluator.
 */
export async function ensurePromtool(): Promise<void> {
  if (await hasCommand("promtool")) return;
  await aptInstall("promtool (alert rule tests)", ["prometheus"]);
}
