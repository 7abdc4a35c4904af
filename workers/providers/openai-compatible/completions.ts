import type { EndpointSpec } from "../types.ts";
import { clientFor } from "./endpoint.ts";
import { toProviderError } from "./errors.ts";

export interface TextCompletionCall {
  endpoint: EndpointSpec;
  prompt: string;
  maxTokens: number;
  temperature: number;
  stop?: string[];
  signal: AbortSignal;
}

/** POST /v1/completions (plain text, not streamed): the first choice's text. */
export async function textCompletion(call: TextCompletionCall): Promise<string> {
  try {
    const completion = await clientFor(call.endpoint).completions.create(
      {
        model: call.endpoint.model,
        prompt: call.prompt,
        max_tokens: call.maxTokens,
        temperature: call.temperature,
        ...(call.stop ? { stop: call.stop } : {}),
      },
      { signal: call.signal },
    );
    return completion.choices[0]?.text ?? "";
  } catch (error: unknown) {
    throw toProviderError(error, `completions ${call.endpoint.id}`, call.signal);
  }
}
