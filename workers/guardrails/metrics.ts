import { Counter, type Registry } from "prom-client";
import type { RequestEvent } from "../../shared/events.ts";

/**
 * Guardrail and contract counters, from the request events a pool worker publishes (the edge's
 * refusals arrive as events too), so an alert can fire on a sudden rise per tenant and rule.
 */
export class GuardrailMetrics {
  readonly #violations: Counter<"tenant" | "rule">;
  readonly #decisions: Counter<"tenant" | "action">;
  readonly #findings: Counter<"tenant" | "finding">;

  constructor(registers: Registry[]) {
    this.#violations = new Counter({
      name: "tiergate_contract_violations_total",
      help: "Requests refused for breaking their input contract, by tenant and rule.",
      labelNames: ["tenant", "rule"],
      registers,
    });
    this.#decisions = new Counter({
      name: "tiergate_guardrail_decisions_total",
      help: "Requests the guardrails checked, by tenant and outcome (pass, redact, block, error).",
      labelNames: ["tenant", "action"],
      registers,
    });
    this.#findings = new Counter({
      name: "tiergate_guardrail_findings_total",
      help: "Guardrail findings by tenant and guardrail:kind:mode (never the matched text).",
      labelNames: ["tenant", "finding"],
      registers,
    });
  }

  /** Counts the guardrail fields of one published event. */
  record(event: RequestEvent): void {
    if (event.contract_violation)
      this.#violations.inc({ tenant: event.tenant, rule: event.contract_violation });
    if (event.guardrail_action) this.#decisions.inc({ tenant: event.tenant, action: event.guardrail_action });
    for (const [finding, n] of Object.entries(event.guardrail_findings ?? {})) {
      this.#findings.inc({ tenant: event.tenant, finding }, n);
    }
  }
}
