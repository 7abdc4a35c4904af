import type { Logger } from "../../shared/logger.ts";
import type { ClickHouse } from "../clickhouse/client.ts";

/** One drift alert: a rollback made, or one the job wanted but could not make. */
export interface DriftAlert {
  ts: number;
  tier: string;
  modelVersion: string;
  action: string;
  toVersion: string;
  score: number;
  reason: string;
  components: Record<string, number>;
}

export const driftAlertsTable = "drift_alerts";

/** Writes the alert to ClickHouse `drift_alerts`. */
export async function recordAlert(ch: ClickHouse, alert: DriftAlert): Promise<void> {
  await ch.insert(driftAlertsTable, [
    {
      ts: alert.ts,
      tier: alert.tier,
      model_version: alert.modelVersion,
      action: alert.action,
      to_version: alert.toVersion,
      score: alert.score,
      reason: alert.reason,
      components: alert.components,
    },
  ]);
}

/** Where {@link postWebhook} sends an alert, and how long it waits. */
export interface WebhookTarget {
  /** Unset: no webhook, nothing is sent. */
  url: string | undefined;
  timeoutMs: number;
  /** Failures are logged here. */
  logger: Logger;
}

/**
 * POSTs the alert as JSON to the configured webhook within `timeoutMs`. Never throws: a failure is
 * logged and reported as false, so a slow or broken receiver cannot hold up the job.
 */
export async function postWebhook(
  alert: DriftAlert,
  { url, timeoutMs, logger }: WebhookTarget,
): Promise<boolean> {
  if (!url) return false;
  try {
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ type: "tiergate.drift_alert", ...alert }),
      signal: AbortSignal.timeout(timeoutMs),
    });
    if (!response.ok) logger.warn("drift webhook refused the alert", { status: response.status });
    return response.ok;
  } catch (error: unknown) {
    logger.warn("drift webhook failed", { error });
    return false;
  }
}
