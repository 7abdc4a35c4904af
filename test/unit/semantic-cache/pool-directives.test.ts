import { describe, expect, it } from "vitest";
import { payloadLogDirective, semanticCacheDirective } from "../../../edge/services/pool-directives.ts";
import { GatewayError } from "../../../shared/errors.ts";
import type { VerifiedKey } from "../../../shared/schemas/keys.ts";
import { verifiedKeySchema } from "../../../shared/schemas/keys.ts";
import {
  parsePayloadLogDirective,
  parseSemanticDirective,
  type SemanticDirective,
} from "../../../shared/schemas/semantic-cache.ts";

const key: VerifiedKey = {
  keyId: "k1",
  tenantId: "t1",
  status: "active",
  allowedModels: null,
  rateLimitPerMinute: null,
  cacheTtlSeconds: null,
};
const use = { mode: "use", ttlSeconds: undefined } as const;

describe("semantic cache directive (edge)", () => {
  it("is off unless the key or the request opts in", () => {
    expect(
      semanticCacheDirective({ header: undefined, apiKey: key, policy: use, defaultTtlSeconds: 3600 }),
    ).toBeUndefined();
    expect(semanticCacheDirective({ header: "on", apiKey: key, policy: use, defaultTtlSeconds: 3600 })).toBe(
      "ttl=3600",
    );
    const optedIn = { ...key, semanticCache: { enabled: true, threshold: 0.95 }, cacheTtlSeconds: 60 };
    expect(
      semanticCacheDirective({ header: undefined, apiKey: optedIn, policy: use, defaultTtlSeconds: 3600 }),
    ).toBe("ttl=60;threshold=0.95");
    expect(
      semanticCacheDirective({ header: "off", apiKey: optedIn, policy: use, defaultTtlSeconds: 3600 }),
    ).toBeUndefined();
  });

  it("follows the response cache's rule: off when it is off, refresh stores only", () => {
    expect(
      semanticCacheDirective({ header: "on", apiKey: key, policy: { mode: "off" }, defaultTtlSeconds: 3600 }),
    ).toBeUndefined();
    expect(
      semanticCacheDirective({
        header: "on",
        apiKey: key,
        policy: { mode: "refresh", ttlSeconds: 30 },
        defaultTtlSeconds: 3600,
      }),
    ).toBe("ttl=30;refresh");
  });

  it("refuses a malformed header with a 400 naming it", () => {
    expect(() =>
      semanticCacheDirective({ header: "yes", apiKey: key, policy: use, defaultTtlSeconds: 3600 }),
    ).toThrow(GatewayError);
  });

  it("round-trips through the pool's parser and rejects malformed directives", () => {
    const d: SemanticDirective = { ttlSeconds: 60, threshold: 0.9, refresh: true };
    expect(parseSemanticDirective("ttl=60;threshold=0.9;refresh")).toEqual(d);
    expect(parseSemanticDirective("ttl=0")).toBeNull();
    expect(parseSemanticDirective("ttl=60;threshold=2")).toBeNull();
    expect(parseSemanticDirective(undefined)).toBeNull();
  });

  it("logs payloads only when the key says so", () => {
    expect(payloadLogDirective(key)).toBeUndefined();
    expect(payloadLogDirective({ ...key, payloadLogging: { enabled: true, retentionDays: null } })).toBe(
      "on",
    );
    expect(payloadLogDirective({ ...key, payloadLogging: { enabled: true, retentionDays: 7 } })).toBe(
      "days=7",
    );
    expect(parsePayloadLogDirective("days=7")).toEqual({ retentionDays: 7 });
    expect(parsePayloadLogDirective("days=0")).toBeNull();
  });

  it("parses a key cached before these settings existed", () => {
    expect(verifiedKeySchema.parse(key)).toEqual(key);
  });
});
