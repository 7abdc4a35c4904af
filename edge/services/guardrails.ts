import { GatewayError } from "../../shared/errors.ts";
import type { RequestEvent } from "../../shared/events.ts";
import { checkContract } from "../../shared/guardrails/contract.ts";
import { scoreInjection } from "../../shared/guardrails/injection.ts";
import { inspectMessages } from "../../shared/guardrails/inspect.ts";
import { OutputFilter } from "../../shared/guardrails/output.ts";
import {
  defaultInjectionThreshold,
  type GuardrailPolicy,
  GuardrailSpecError,
  parseGuardrailSpec,
  tightenPolicy,
} from "../../shared/guardrails/policy.ts";
import { type FindingCounts, Placeholders } from "../../shared/guardrails/redact.ts";
import { type ChatCompletionRequest, type ChatMessage, messageText } from "../../shared/schemas/chat.ts";
import type { VerifiedKey } from "./api-keys.ts";
import type { Moderator } from "./moderation.ts";

/** The request header with which a request tightens its key's guardrails (never loosens them). */
export const guardrailsHeader = "x-tiergate-guardrails";

/** What the guardrails add to a request's event. */
export type GuardrailEventFields = Pick<
  RequestEvent,
  "guardrails" | "guardrail_findings" | "guardrail_action" | "contract_violation"
>;

export interface GuardInput {
  apiKey: VerifiedKey;
  request: ChatCompletionRequest;
  /** The request's `x-tiergate-guardrails` header, if any. */
  asked: string | undefined;
  moderator: Moderator | null;
  /** Receives the event fields before the request is refused or forwarded. */
  onDecision(fields: GuardrailEventFields): void;
}

/** The decisions as the signed header to the pool (undefined when no guardrail ran). */
export function guardrailDecisionsHeader(fields: GuardrailEventFields | undefined): string | undefined {
  return fields?.guardrails?.length ? JSON.stringify(fields) : undefined;
}

/** A request the guardrails let through: what to forward, and the filter for its answer. */
export interface GuardedRequest {
  request: ChatCompletionRequest;
  output: OutputFilter;
}

/** The effective policy: the key's, tightened by the request's header. 400 naming the header if malformed. */
function effectivePolicy(apiKey: VerifiedKey, asked: string | undefined): GuardrailPolicy | null {
  const base = apiKey.guardrails ?? null;
  if (asked === undefined || asked.trim() === "") return base;
  try {
    return tightenPolicy(base, parseGuardrailSpec(asked));
  } catch (error: unknown) {
    if (!(error instanceof GuardrailSpecError)) throw error;
    throw new GatewayError("BAD_REQUEST", `${guardrailsHeader}: ${error.message}.`, {
      param: guardrailsHeader,
    });
  }
}

function blocked(guardrail: string, message: string): GatewayError {
  return new GatewayError("CONTENT_BLOCKED", message, { param: `guardrails.${guardrail}` });
}

/** Text written by the caller's users (not the operator's system prompt), for injection and moderation. */
function userTexts(messages: readonly ChatMessage[]): string[] {
  return messages.filter((m) => m.role === "user" || m.role === "tool").map(messageText);
}

/** The event fields of what ran and what it found. */
function fields(ran: string[], counts: FindingCounts, action: string): GuardrailEventFields {
  return { guardrails: ran, guardrail_findings: { ...counts }, guardrail_action: action };
}

/**
 * The edge's guardrails before a chat request is forwarded: the key's input contract, then PII
 * (block/redact/log), injection heuristics and the moderation hook under the effective policy.
 * Throws CONTRACT_VIOLATION or CONTENT_BLOCKED (400, `param` naming the field or guardrail).
 */
export async function guardChatRequest(input: GuardInput): Promise<GuardedRequest> {
  const { apiKey, request } = input;
  const contract = apiKey.contract;
  if (contract) {
    const violation = checkContract(contract, request);
    if (violation) {
      input.onDecision({ contract_violation: violation.rule });
      throw new GatewayError("CONTRACT_VIOLATION", violation.message, { param: violation.param });
    }
  }
  const policy = effectivePolicy(apiKey, input.asked);
  const placeholders = new Placeholders();
  if (!policy) return { request, output: new OutputFilter({}, placeholders) };

  const ran: string[] = [];
  const pii = inspectMessages(request.messages, policy, placeholders);
  if (Object.keys(policy.pii ?? {}).length) ran.push("pii");
  const counts = pii.counts;
  const refuse = (guardrail: string, message: string): never => {
    input.onDecision(fields(ran, counts, "block"));
    throw blocked(guardrail, message);
  };
  if (pii.blocked)
    refuse(`pii.${pii.blocked}`, `The request contains ${pii.blocked} data this key may not send.`);

  if (policy.injection) {
    ran.push("injection");
    const score = scoreInjection(userTexts(request.messages).join("\n"));
    if (score.score >= (policy.injection.threshold ?? defaultInjectionThreshold)) {
      counts[`injection:${policy.injection.mode}`] = 1;
      if (policy.injection.mode === "block")
        refuse("injection", "The request looks like a prompt injection.");
    }
  }
  if (policy.moderation) {
    ran.push("moderation");
    await moderate(input.moderator, policy.moderation, userTexts(pii.messages), {
      counts,
      refuse,
      fail: (message) => {
        input.onDecision(fields(ran, counts, "error"));
        throw new GatewayError("UPSTREAM_UNAVAILABLE", message, { param: "guardrails.moderation" });
      },
    });
  }
  if (policy.output) ran.push("output");
  const redacted = Object.keys(counts).some((label) => label.endsWith(":redact"));
  input.onDecision(fields(ran, counts, redacted ? "redact" : "pass"));
  return {
    request: pii.messages === request.messages ? request : { ...request, messages: pii.messages },
    output: new OutputFilter(policy, placeholders, counts),
  };
}

/** Calls the moderation hook; its failure lets the request through (open) or refuses it (closed). */
async function moderate(
  moderator: Moderator | null,
  policy: NonNullable<GuardrailPolicy["moderation"]>,
  texts: string[],
  on: {
    counts: FindingCounts;
    refuse(guardrail: string, message: string): never;
    fail(message: string): never;
  },
): Promise<void> {
  if (texts.length === 0) return;
  const closed = policy.onError === "closed";
  if (!moderator) {
    on.counts["moderation:unconfigured"] = 1;
    if (closed) on.fail("The moderation guardrail is required but no moderation endpoint is configured.");
    return;
  }
  let verdict: Awaited<ReturnType<Moderator["check"]>>;
  try {
    verdict = await moderator.check(texts);
  } catch {
    on.counts["moderation:error"] = 1;
    if (closed) on.fail("The moderation guardrail could not check the request; try again shortly.");
    return;
  }
  if (!verdict.flagged) return;
  for (const category of verdict.categories.slice(0, 8))
    on.counts[`moderation.${category}:${policy.mode}`] = 1;
  on.counts[`moderation:${policy.mode}`] = 1;
  if (policy.mode === "block") on.refuse("moderation", "The request was flagged by moderation.");
}
