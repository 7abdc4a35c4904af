import { requestEventSchema } from "../../shared/events.ts";

const decisionsSchema = requestEventSchema.pick({
  guardrails: true,
  guardrail_findings: true,
  guardrail_action: true,
});

/**
 * The guardrail fields of a request's event, from the edge's signed `x-tiergate-guardrail-decisions`
 * header (JSON). Absent or malformed: none (the event is still recorded).
 */
export function guardrailFields(header: string | undefined): Partial<Record<string, unknown>> {
  if (!header) return {};
  try {
    const parsed = decisionsSchema.safeParse(JSON.parse(header));
    return parsed.success ? parsed.data : {};
  } catch {
    return {};
  }
}
