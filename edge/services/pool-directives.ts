import { GatewayError } from "../../shared/errors.ts";
import { headers } from "../../shared/headers.ts";
import type { VerifiedKey } from "../../shared/schemas/keys.ts";
import { formatSemanticDirective } from "../../shared/schemas/semantic-cache.ts";
import type { CachePolicy } from "./chat-completions.ts";

/**
 * The semantic cache directive for the pool, or undefined when this request does not use it. The client
 * header `x-tiergate-semantic-cache: on|off` decides; without it, the key's setting. The semantic cache
 * follows the response cache's rule: a request the response cache skips (not deterministic and not
 * forced, or `bypass`) skips it too; `refresh` stores without reading.
 */
export function semanticCacheDirective(options: {
  header: string | undefined;
  apiKey: VerifiedKey;
  policy: CachePolicy;
  defaultTtlSeconds: number;
}): string | undefined {
  const { header, apiKey, policy } = options;
  const choice = header?.trim().toLowerCase();
  if (choice !== undefined && choice !== "on" && choice !== "off") {
    throw new GatewayError("BAD_REQUEST", `${headers.semanticCache} must be on or off.`, {
      param: headers.semanticCache,
    });
  }
  const enabled = choice === undefined ? apiKey.semanticCache?.enabled === true : choice === "on";
  if (!enabled || policy.mode === "off") return undefined;
  return formatSemanticDirective({
    ttlSeconds: policy.ttlSeconds ?? apiKey.cacheTtlSeconds ?? options.defaultTtlSeconds,
    threshold: apiKey.semanticCache?.threshold ?? null,
    refresh: policy.mode === "refresh",
  });
}

/** `days=<n>` (or `on`: the pool's default) when the key logs payloads (off by default), else undefined. */
export function payloadLogDirective(apiKey: VerifiedKey): string | undefined {
  const setting = apiKey.payloadLogging;
  if (!setting?.enabled) return undefined;
  return setting.retentionDays === null ? "on" : `days=${setting.retentionDays}`;
}
