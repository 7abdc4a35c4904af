import { describe, expect, it } from "vitest";
import type { RequestEvent } from "../../../shared/events.ts";
import { requestEventSchema } from "../../../shared/events.ts";
import { guardrailFields } from "../../../workers/guardrails/event-fields.ts";
import { PoolMetrics } from "../../../workers/pool/metrics/pool-metrics.ts";

const base: RequestEvent = {
  event_id: crypto.randomUUID(),
  ts: Date.now(),
  request_id: "req_1",
  tenant: "acme",
  user_id: "",
  route: "chat",
  tier: "edge",
  model: "",
  model_version: "",
  provider: "edge-refused",
  status: 400,
  cache: "BYPASS",
  fallback_reason: "",
  queue_ms: 0,
  ttft_ms: 1,
  latency_ms: 1,
  prompt_tokens: 0,
  completion_tokens: 0,
};

describe("guardrail fields in events and metrics", () => {
  it("takes the edge's decisions header into the event, ignoring a malformed one", () => {
    const header = JSON.stringify({
      guardrails: ["pii", "injection"],
      guardrail_findings: { "email:redact": 2 },
      guardrail_action: "redact",
    });
    const event = requestEventSchema.parse({ ...base, ...guardrailFields(header) });
    expect(event.guardrail_findings).toEqual({ "email:redact": 2 });
    expect(guardrailFields("{not json")).toEqual({});
    expect(guardrailFields(JSON.stringify({ guardrail_findings: { x: -1 } }))).toEqual({});
    expect(guardrailFields(undefined)).toEqual({});
  });

  it("counts contract violations per tenant and rule, and findings, on /metrics", async () => {
    const metrics = new PoolMetrics({
      eventStats: () => ({
        buffered: 0,
        inFlight: 0,
        spooledEvents: 0,
        spooledBytes: 0,
        dropped: 0,
        sent: 0,
        kafkaDown: false,
      }),
      processMetrics: false,
    });
    metrics.recordEvent({ ...base, contract_violation: "metadata_schema" });
    metrics.recordEvent({ ...base, contract_violation: "metadata_schema" });
    metrics.recordEvent({
      ...base,
      tenant: "beta",
      guardrails: ["pii"],
      guardrail_findings: { "card:block": 1 },
      guardrail_action: "block",
    });
    const text = await metrics.render();
    expect(text).toContain('tiergate_contract_violations_total{tenant="acme",rule="metadata_schema"} 2');
    expect(text).toContain('tiergate_guardrail_decisions_total{tenant="beta",action="block"} 1');
    expect(text).toContain('tiergate_guardrail_findings_total{tenant="beta",finding="card:block"} 1');
  });
});
