import type { Redis } from "@upstash/redis/cloudflare";
import { canonicalJson } from "../../shared/canonical-json.ts";
import { DependencyError } from "../../shared/dependency-error.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { sha256Hex } from "../../shared/signing.ts";

/** Request fields that change the answer; everything else (stream, user, metadata) is left out of the key. */
const keyFields = [
  "model",
  "messages",
  "temperature",
  "top_p",
  "max_tokens",
  "max_completion_tokens",
  "stop",
  "presence_penalty",
  "frequency_penalty",
  "logit_bias",
  "seed",
  "response_format",
  "tools",
  "tool_choice",
  "top_k",
  "min_p",
  "repetition_penalty",
] as const satisfies readonly (keyof ChatCompletionRequest)[];

/**
 * The response cache: sha256 of tenant + canonical request, as in the article, namespaced per tenant
 * so one tenant can never read another's entries.
 */
export class ResponseCache {
  constructor(
    private readonly redis: Redis,
    private readonly defaultTtlSeconds: number,
  ) {}

  async keyFor(tenant: string, request: ChatCompletionRequest): Promise<string> {
    const picked: Record<string, unknown> = {};
    for (const field of keyFields) picked[field] = request[field];
    const digest = await sha256Hex(`${tenant}\n${canonicalJson(picked)}`);
    return `tg:resp:${tenant}:${digest}`;
  }

  /** Returns the cached completion JSON, or null. Redis failures surface as DependencyError. */
  async get(key: string): Promise<string | null> {
    try {
      const value = await this.redis.get<string>(key);
      return typeof value === "string" ? value : null;
    } catch (error: unknown) {
      throw new DependencyError("redis", true, "cache read failed", { cause: error });
    }
  }

  async set(key: string, body: string, ttlSeconds = this.defaultTtlSeconds): Promise<void> {
    try {
      await this.redis.set(key, body, { ex: ttlSeconds });
    } catch (error: unknown) {
      throw new DependencyError("redis", true, "cache write failed", { cause: error });
    }
  }
}

/** Only deterministic requests are cached: temperature 0 (OpenAI's default temperature is 1). */
export function isDeterministic(request: ChatCompletionRequest): boolean {
  return request.temperature === 0;
}
