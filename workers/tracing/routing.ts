import type { Span } from "@opentelemetry/api";
import { attr } from "../../shared/trace-attributes.ts";
import type { RouteDecision } from "../router/policy.ts";
import { inSpan } from "./spans.ts";

/** The routing decision as a span: the requested model, the tier chosen and why. */
export function tracedDecision<T extends { decision: RouteDecision }>(
  requested: string,
  decide: () => Promise<T>,
): Promise<T> {
  return inSpan("tiergate.route", { attributes: { [attr.genAiRequestModel]: requested } }, async (span) => {
    const result = await decide();
    setDecision(span, result.decision);
    return result;
  });
}

function setDecision(span: Span, decision: RouteDecision): void {
  span.setAttribute(attr.routeMode, decision.mode);
  span.setAttribute(attr.tier, decision.tier);
  span.setAttribute(attr.routeReasons, decision.reasons);
  if (decision.task) span.setAttribute(attr.routeTask, decision.task);
  span.setAttribute("tiergate.route.escalated", decision.escalated);
}

/**
 * Marks the span of the whole routed call with who answered and the fallback hops (empty when the
 * first choice answered), so a fallback is visible without reading the attempts.
 */
export function setServedAttributes(
  span: Span | undefined,
  served: { tier: string; provider: string; model: string; fallbackReason: string },
): void {
  if (!span) return;
  span.setAttribute("tiergate.served.tier", served.tier);
  span.setAttribute("tiergate.served.provider", served.provider);
  span.setAttribute(attr.genAiResponseModel, served.model);
  if (served.fallbackReason) span.setAttribute(attr.fallbackReason, served.fallbackReason);
}
