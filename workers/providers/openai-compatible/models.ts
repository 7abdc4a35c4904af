import type { EndpointSpec } from "../types.ts";
import { clientFor } from "./endpoint.ts";
import { toProviderError } from "./errors.ts";

/** GET /v1/models of an endpoint: the names it serves (used by the registry CLI to check a new endpoint). */
export async function listServedModels(endpoint: EndpointSpec, signal: AbortSignal): Promise<string[]> {
  try {
    const names: string[] = [];
    for await (const model of clientFor(endpoint).models.list({ signal })) names.push(model.id);
    return names;
  } catch (error: unknown) {
    throw toProviderError(error, `models ${endpoint.id}`, signal);
  }
}
