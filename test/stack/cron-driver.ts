import { type CronSchedule, nextRun } from "./cron-schedule.ts";

/** setTimeout's longest wait (2^31 - 1 ms). */
const maxTimerMs = 2_147_483_647;

/** Options of {@link startCronDriver}. */
export interface CronDriverOptions {
  schedules: CronSchedule[];
  /** The trigger worker's Unix socket (test/stack/workerd-edge.ts). */
  socket: string;
  signal: AbortSignal;
  /** Told after each run: `ok`, `failed` (the handler threw) or `unreachable` (workerd not serving). */
  onRun: (cron: string, outcome: "ok" | "failed" | "unreachable", detail: string) => void;
  /** How long one run may take before it counts as failed. */
  runTimeoutMs?: number;
}

/** One run of the edge's `scheduled` handler for `cron` at `time`, through the trigger socket. */
export async function triggerScheduled(
  socket: string,
  cron: string,
  time: number,
  timeoutMs = 60_000,
): Promise<{ outcome: "ok" | "failed" | "unreachable"; detail: string }> {
  const query = new URLSearchParams({ cron, time: String(time) });
  try {
    const response = await fetch(`http://cron/?${query}`, {
      method: "POST",
      unix: socket,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const detail = await response.text();
    return { outcome: response.ok ? "ok" : "failed", detail };
  } catch (error: unknown) {
    return { outcome: "unreachable", detail: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * Fires each schedule at its next time (UTC, like Workers' cron triggers), one timer per schedule,
 * until `signal` aborts. A run that overlaps the next time is not doubled: the next run is computed
 * after it ends. Returns a function that stops every timer.
 */
export function startCronDriver(options: CronDriverOptions): () => void {
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const schedule = (cron: CronSchedule, after: number) => {
    if (options.signal.aborted) return;
    const at = nextRun(cron, after);
    const wait = at - Date.now();
    if (wait > maxTimerMs) {
      // Longer than a timer can wait: look again later.
      const timer = setTimeout(() => {
        timers.delete(timer);
        schedule(cron, after);
      }, maxTimerMs);
      timers.add(timer);
      return;
    }
    const timer = setTimeout(
      async () => {
        timers.delete(timer);
        const result = await triggerScheduled(options.socket, cron.expression, at, options.runTimeoutMs);
        if (!options.signal.aborted) options.onRun(cron.expression, result.outcome, result.detail);
        schedule(cron, Math.max(at, Date.now()));
      },
      Math.max(0, wait),
    );
    timers.add(timer);
  };
  for (const cron of options.schedules) schedule(cron, Date.now());
  const stopAll = () => {
    for (const timer of timers) clearTimeout(timer);
    timers.clear();
  };
  options.signal.addEventListener("abort", stopAll, { once: true });
  return stopAll;
}
