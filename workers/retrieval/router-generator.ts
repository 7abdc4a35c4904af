import { GatewayError } from "../../shared/errors.ts";
import type { Router } from "../router/router.ts";
import {
  type GenerationMessage,
  type GenerationResult,
  type Generator,
  ModelCallError,
} from "./model-clients.ts";

/**
 * RAG generation through the pool's router: the `large` tier by default (or the request's model), with
 * the router's retries, breakers and fallback chain down to the extractive `rules` tier.
 */
export function routerGenerator(router: Router, timeoutMs: number): Generator {
  return {
    async generate(messages: GenerationMessage[], options): Promise<GenerationResult> {
      const signal = options.signal ?? AbortSignal.timeout(timeoutMs);
      const { completion } = await router
        .complete(
          {
            model: options.model ?? "large",
            messages,
            max_tokens: options.maxTokens,
            temperature: options.temperature,
          },
          { requestId: `rag-${crypto.randomUUID()}`, deadline: Date.now() + timeoutMs, signal },
        )
        .catch((error: unknown) => {
          if (error instanceof GatewayError && error.code === "MODEL_NOT_FOUND") {
            throw new ModelCallError(false, error.message, 404, { cause: error });
          }
          throw error;
        });
      return {
        text: completion.choices[0]?.message.content ?? "",
        model: completion.model,
        usage: completion.usage,
      };
    },
  };
}
