import { z } from "zod";
import { type PiiKind, piiKinds } from "./detectors.ts";

/** What a guardrail does with a finding: only count it, replace it with a placeholder, or refuse. */
export const guardrailModes = ["log", "redact", "block"] as const;
export type GuardrailMode = (typeof guardrailModes)[number];
const modeSchema = z.enum(guardrailModes);
const flagModeSchema = z.enum(["log", "block"]);

/**
 * A tenant's or key's guardrail policy. `pii` maps each detector to its mode (absent: off);
 * `output` also scans answers (streamed ones included; findings there are redacted); `restore` puts
 * the request's own redacted values back into the answer. `injection` scores prompt-injection
 * heuristics against `threshold`; `moderation` calls the configured moderation endpoint and, when it
 * cannot answer, fails `open` (let the request through) or `closed` (refuse it).
 */
export const guardrailPolicySchema = z.object({
  pii: z.partialRecord(z.enum(piiKinds), modeSchema).optional(),
  output: z.boolean().optional(),
  restore: z.boolean().optional(),
  injection: z.object({ mode: flagModeSchema, threshold: z.number().min(0).max(1).optional() }).optional(),
  moderation: z.object({ mode: flagModeSchema, onError: z.enum(["open", "closed"]).optional() }).optional(),
});
export type GuardrailPolicy = z.infer<typeof guardrailPolicySchema>;

/** The score at or above which the injection heuristics fire, unless a policy sets its own. */
export const defaultInjectionThreshold = 0.6;

const rank = (mode: GuardrailMode | undefined): number => (mode ? guardrailModes.indexOf(mode) : -1);

/** The stricter of two modes (absent is the loosest). */
export function stricterMode<M extends GuardrailMode>(a: M | undefined, b: M | undefined): M | undefined {
  return rank(a) >= rank(b) ? a : b;
}

/** Tenant default overridden field by field by a key's own policy (null when neither has one). */
export function overridePolicy(
  tenant: GuardrailPolicy | null | undefined,
  key: GuardrailPolicy | null | undefined,
): GuardrailPolicy | null {
  if (!tenant && !key) return null;
  return { ...tenant, ...key, pii: { ...tenant?.pii, ...key?.pii } };
}

/**
 * `base` tightened by what a request asked: a stricter mode per detector, output scanning on, restore
 * off, a lower injection threshold, moderation on or failing closed. Nothing in `asked` loosens `base`.
 */
export function tightenPolicy(base: GuardrailPolicy | null, asked: GuardrailPolicy): GuardrailPolicy {
  const pii: Partial<Record<PiiKind, GuardrailMode>> = { ...base?.pii };
  for (const kind of piiKinds) {
    const mode = stricterMode(base?.pii?.[kind], asked.pii?.[kind]);
    if (mode) pii[kind] = mode;
  }
  const restore = base?.restore === true && asked.restore !== false;
  return {
    pii,
    output: base?.output === true || asked.output === true,
    restore,
    ...tighterFlag("injection", base, asked),
    ...tighterFlag("moderation", base, asked),
  };
}

function tighterFlag(
  name: "injection" | "moderation",
  base: GuardrailPolicy | null,
  asked: GuardrailPolicy,
): Partial<GuardrailPolicy> {
  const a = base?.[name];
  const b = asked[name];
  if (!a && !b) return {};
  const mode = stricterMode(a?.mode, b?.mode) ?? "log";
  if (name === "injection") {
    const thresholds = [base?.injection?.threshold, asked.injection?.threshold].filter(
      (t): t is number => t !== undefined,
    );
    return { injection: { mode, ...(thresholds.length ? { threshold: Math.min(...thresholds) } : {}) } };
  }
  const closed = base?.moderation?.onError === "closed" || asked.moderation?.onError === "closed";
  return { moderation: { mode, onError: closed ? "closed" : "open" } };
}

/** Why a request-side guardrail spec is malformed. */
export class GuardrailSpecError extends Error {
  override readonly name = "GuardrailSpecError";
}

const onOff = (value: string, name: string): boolean => {
  if (value === "on" || value === "true") return true;
  if (value === "off" || value === "false") return false;
  throw new GuardrailSpecError(`${name} must be on or off`);
};

/**
 * Parses `email=redact,card=block,injection=block,moderation=block,output=on,restore=off` (the
 * request header's and the CLI's syntax) into a policy. Throws GuardrailSpecError naming the bad item.
 */
export function parseGuardrailSpec(spec: string): GuardrailPolicy {
  const policy: GuardrailPolicy = {};
  const pii: Partial<Record<PiiKind, GuardrailMode>> = {};
  for (const item of spec.split(",")) {
    const trimmed = item.trim();
    if (!trimmed) continue;
    const [rawName, rawValue, extra] = trimmed.split("=").map((s) => s.trim().toLowerCase());
    const name = rawName?.replace(/^pii\./, "") ?? "";
    const value = rawValue ?? "";
    if (extra !== undefined || !value) throw new GuardrailSpecError(`"${trimmed}" is not name=value`);
    if ((piiKinds as readonly string[]).includes(name)) {
      const mode = modeSchema.safeParse(value);
      if (!mode.success) throw new GuardrailSpecError(`${name} must be log, redact or block`);
      pii[name as PiiKind] = mode.data;
    } else if (name === "output" || name === "restore") {
      policy[name] = onOff(value, name);
    } else if (name === "injection" || name === "moderation") {
      const mode = flagModeSchema.safeParse(value);
      if (!mode.success) throw new GuardrailSpecError(`${name} must be log or block`);
      policy[name] = { mode: mode.data };
    } else if (name === "injection_threshold") {
      const threshold = Number(value);
      if (!(threshold >= 0 && threshold <= 1)) throw new GuardrailSpecError(`${name} must be in 0..1`);
      policy.injection = { mode: policy.injection?.mode ?? "block", threshold };
    } else if (name === "moderation_on_error") {
      if (value !== "open" && value !== "closed")
        throw new GuardrailSpecError(`${name} must be open or closed`);
      policy.moderation = { mode: policy.moderation?.mode ?? "block", onError: value };
    } else {
      throw new GuardrailSpecError(`unknown guardrail "${name}"`);
    }
  }
  if (Object.keys(pii).length) policy.pii = pii;
  return policy;
}
