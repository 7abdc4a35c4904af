import { z } from "zod";
import { DependencyError } from "../../shared/dependency-error.ts";

const moderationResponseSchema = z.object({
  results: z
    .array(
      z.object({
        flagged: z.boolean(),
        categories: z.record(z.string(), z.boolean()).optional(),
      }),
    )
    .min(1),
});

/** A moderation verdict: flagged or not, and the categories that were. */
export interface ModerationVerdict {
  flagged: boolean;
  categories: string[];
}

/** Checks texts against a moderation endpoint. */
export interface Moderator {
  /** DependencyError("model") when the endpoint fails, times out or answers malformed. */
  check(inputs: string[]): Promise<ModerationVerdict>;
}

export interface ModerationClientOptions {
  url: string;
  apiKey?: string | undefined;
  model: string;
  timeoutMs: number;
}

/** A client of OpenAI's moderation API shape: `POST /v1/moderations` with `{model, input: string[]}`. */
export class ModerationClient implements Moderator {
  constructor(private readonly options: ModerationClientOptions) {}

  async check(inputs: string[]): Promise<ModerationVerdict> {
    const { url, apiKey, model, timeoutMs } = this.options;
    let response: Response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          ...(apiKey ? { authorization: `Bearer ${apiKey}` } : {}),
        },
        body: JSON.stringify({ model, input: inputs }),
        signal: AbortSignal.timeout(timeoutMs),
      });
    } catch (error: unknown) {
      throw new DependencyError("model", true, "moderation endpoint unreachable or timed out", {
        cause: error,
      });
    }
    if (!response.ok) {
      await response.body?.cancel().catch(() => undefined);
      throw new DependencyError("model", response.status >= 500, `moderation answered ${response.status}`);
    }
    let parsed: z.infer<typeof moderationResponseSchema>;
    try {
      parsed = moderationResponseSchema.parse(await response.json());
    } catch (error: unknown) {
      throw new DependencyError("model", false, "moderation answer malformed", { cause: error });
    }
    const categories = new Set<string>();
    for (const result of parsed.results) {
      for (const [name, on] of Object.entries(result.categories ?? {})) if (on) categories.add(name);
    }
    return { flagged: parsed.results.some((r) => r.flagged), categories: [...categories] };
  }
}
