import type { BudgetAlertRequest } from "../../shared/schemas/spend.ts";
import type { PoolClient } from "./pool-client.ts";

/** Sends a soft budget's alert to a pool (signed), which records it once per period and calls the webhook. */
export function spendAlertSender(pool: PoolClient): (alert: BudgetAlertRequest) => Promise<void> {
  return async (alert) => {
    const result = await pool.forward({
      method: "POST",
      path: "/internal/v1/spend/alerts",
      body: JSON.stringify(alert),
      requestId: crypto.randomUUID(),
      tenant: alert.tenant,
      deadline: Date.now() + 10_000,
      idempotent: true,
      recordHealth: false,
    });
    if (!result.ok) throw new Error(`budget alert not delivered: ${result.reason}`);
    result.settle(false);
    await result.response.body?.cancel().catch(() => undefined);
    if (!result.response.ok) throw new Error(`budget alert refused: ${result.response.status}`);
  };
}
