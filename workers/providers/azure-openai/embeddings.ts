import type { EmbeddingsResponse } from "../../../shared/schemas/embeddings.ts";
import { toProviderError } from "../openai-compatible/errors.ts";
import type { EmbeddingsCall } from "../types.ts";
import { azureClientFor } from "./endpoint.ts";

/** Azure OpenAI embeddings on the endpoint's deployment. */
export async function azureEmbeddings(call: EmbeddingsCall): Promise<EmbeddingsResponse> {
  try {
    const { model: _model, ...rest } = call.request;
    const response: unknown = await azureClientFor(call.endpoint).embeddings.create(
      { ...rest, model: call.endpoint.model },
      { signal: call.signal },
    );
    return response as EmbeddingsResponse;
  } catch (error: unknown) {
    throw toProviderError(error, `azure embeddings ${call.endpoint.id}`, call.signal);
  }
}
