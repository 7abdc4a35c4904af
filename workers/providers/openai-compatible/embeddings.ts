import type { EmbeddingsResponse } from "../../../shared/schemas/embeddings.ts";
import type { EmbeddingsCall } from "../types.ts";
import { clientFor } from "./endpoint.ts";
import { toProviderError } from "./errors.ts";

/** POST /v1/embeddings. Base64 output is passed through as the upstream encoded it. */
export async function createEmbeddings(call: EmbeddingsCall): Promise<EmbeddingsResponse> {
  try {
    const { model: _model, ...rest } = call.request;
    const response: unknown = await clientFor(call.endpoint).embeddings.create(
      { ...rest, model: call.endpoint.model },
      { signal: call.signal },
    );
    return response as EmbeddingsResponse;
  } catch (error: unknown) {
    throw toProviderError(error, `embeddings ${call.endpoint.id}`, call.signal);
  }
}
