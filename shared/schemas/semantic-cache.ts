import { z } from "zod";

/** A key's semantic cache setting (tenant default merged with the key's override). */
export const semanticCacheSettingsSchema = z.object({
  enabled: z.boolean(),
  /** A stricter similarity threshold than the deployment's; null keeps the deployment's. */
  threshold: z.number().min(0).max(1).nullable(),
});
export type SemanticCacheSettings = z.infer<typeof semanticCacheSettingsSchema>;

/** A key's payload logging setting: off unless enabled; rows kept `retentionDays` (null: the default). */
export const payloadLoggingSettingsSchema = z.object({
  enabled: z.boolean(),
  retentionDays: z.number().int().min(1).max(3650).nullable(),
});
export type PayloadLoggingSettings = z.infer<typeof payloadLoggingSettingsSchema>;

/** What the edge tells the pool about one request's semantic caching (signed). */
export interface SemanticDirective {
  ttlSeconds: number;
  threshold: number | null;
  /** Skip the read, store the new answer (`x-tiergate-cache: refresh`). */
  refresh: boolean;
}

/** `ttl=<s>[;threshold=<x>][;refresh]`. */
export function formatSemanticDirective(d: SemanticDirective): string {
  const parts = [`ttl=${d.ttlSeconds}`];
  if (d.threshold !== null) parts.push(`threshold=${d.threshold}`);
  if (d.refresh) parts.push("refresh");
  return parts.join(";");
}

/** The directive, or null when the header is absent or malformed. */
export function parseSemanticDirective(raw: string | undefined): SemanticDirective | null {
  if (!raw) return null;
  const match = raw.match(/^ttl=(\d{1,9})(?:;threshold=(0(?:\.\d+)?|1(?:\.0+)?))?(;refresh)?$/);
  if (!match) return null;
  const ttlSeconds = Number(match[1]);
  if (ttlSeconds < 1) return null;
  return { ttlSeconds, threshold: match[2] === undefined ? null : Number(match[2]), refresh: !!match[3] };
}

/**
 * `on` (kept the pool's default number of days) or `days=<n>`: payload logging for one request. Null when
 * absent or malformed.
 */
export function parsePayloadLogDirective(raw: string | undefined): { retentionDays: number | null } | null {
  if (raw === "on") return { retentionDays: null };
  const match = raw?.match(/^days=(\d{1,4})$/);
  if (!match) return null;
  const retentionDays = Number(match[1]);
  return retentionDays >= 1 ? { retentionDays } : null;
}
