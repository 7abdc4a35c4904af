import { GatewayError } from "../../shared/errors.ts";
import { type AllowedModels, generationTier, modelForbidden } from "../router/allowed.ts";
import type { Router } from "../router/router.ts";
import {
  type GenerationMessage,
  type GenerationResult,
  type Generator,
  ModelCallError,
} from "./model-clients.ts";

/**
 * The model RAG generation asks for when the request names none: `large`, or the most capable tier
 * the key may use. A key that may use no chat tier gets 403 MODEL_FORBIDDEN.
 */
export function defaultGenerationModel(router: Router, allowedModels: AllowedModels): string {
  const tier = generationTier(router.routingTable, allowedModels);
  if (!tier) throw modelForbidden("large");
  return tier.name;
}

/**
 * RAG generation through the pool's router: the `large` tier by default (or the request's model), with
 * the router's retries, breakers and fallback chain down to the extractive `rules` tier, all limited to
 * the tiers the API key may use (`allowedModels`, null for any).
 */
export function routerGenerator(
  router: Router,
  timeoutMs: number,
  allowedModels: AllowedModels = null,
): Generator {
  return {
    async generate(messages: GenerationMessage[], options): Promise<GenerationResult> {
      const signal = options.signal ?? AbortSignal.timeout(timeoutMs);
      const { completion } = await router
        .complete(
          {
            model: options.model ?? defaultGenerationModel(router, allowedModels),
            messages,
            max_tokens: options.maxTokens,
            temperature: options.temperature,
          },
          {
            requestId: `rag-${crypto.randomUUID()}`,
            deadline: Date.now() + timeoutMs,
            signal,
            allowedModels,
          },
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
