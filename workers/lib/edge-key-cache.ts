import { Redis } from "@upstash/redis";
import { DependencyError } from "../../shared/dependency-error.ts";
import { keyCacheEntry } from "../../shared/schemas/keys.ts";
import type { KeyLookupCache } from "../db/api-keys.ts";

/** The edge's key-lookup cache in Redis, reached over Upstash's REST protocol like the edge does. */
export function upstashKeyLookupCache(url: string, token: string): KeyLookupCache {
  const redis = new Redis({ url, token, enableTelemetry: false, retry: false });
  return {
    async forget(keyHash) {
      try {
        await redis.del(keyCacheEntry(keyHash));
      } catch (error: unknown) {
        throw new DependencyError("redis", true, "could not delete the edge's cached key lookup", {
          cause: error,
        });
      }
    },
  };
}

/** No edge cache configured: revocation takes effect when cached lookups expire (KEY_CACHE_TTL_SECONDS). */
export const noKeyLookupCache: KeyLookupCache = { forget: async () => {} };
