import { Gauge, type Registry } from "prom-client";
import { z } from "zod";

/** What the pool supervisor tells its children after each restart: restarts so far, per child. */
const restartReportSchema = z.object({
  type: z.literal("restarts"),
  counts: z.record(z.string(), z.number().int().nonnegative()),
});

export type RestartReport = z.infer<typeof restartReportSchema>;

/** What a child sends once it listens, so a restarted child learns the counts at once. */
export const restartReportWanted = { type: "restarts-wanted" } as const;

/** True for a child's {@link restartReportWanted} message. */
export function wantsRestartReport(message: unknown): boolean {
  return (message as { type?: unknown } | null)?.type === restartReportWanted.type;
}

/** The report the supervisor sends over IPC. */
export function restartReport(counts: ReadonlyMap<string, number>): RestartReport {
  return { type: "restarts", counts: Object.fromEntries(counts) };
}

/**
 * Shows the supervisor's restart counts on this worker's `/metrics` as
 * `tiergate_pool_child_restarts{child}` (every worker reports the same numbers: aggregate with max).
 * A worker started without IPC (tests, a single process) reports nothing.
 */
export function listenForRestartReports(registry: Registry): void {
  const gauge = new Gauge({
    name: "tiergate_pool_child_restarts",
    help: "Restarts of the pool's worker and ingest processes by the supervisor, per child.",
    labelNames: ["child"],
    registers: [registry],
  });
  process.on("message", (message: unknown) => {
    const parsed = restartReportSchema.safeParse(message);
    if (!parsed.success) return;
    for (const [child, count] of Object.entries(parsed.data.counts)) gauge.set({ child }, count);
  });
  process.send?.(restartReportWanted);
}
