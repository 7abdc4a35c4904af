import { DependencyError } from "../../shared/dependency-error.ts";
import { errorBody, GatewayError } from "../../shared/errors.ts";
import { storeUnavailableStatus } from "../../shared/formats/responses/passthrough.ts";
import type { ResponsesRequest } from "../../shared/schemas/responses.ts";
import type { ResponseStore } from "./store.ts";

/** Output item types that are conversation turns (reasoning and other items are not replayed). */
const turnTypes = new Set(["message", "function_call", "function_call_output"]);

/** Whether a request needs the response store: it is stored, or continues a stored response. */
export function isStateful(request: ResponsesRequest): boolean {
  return request.store === true || Boolean(request.previous_response_id);
}

/** A request's input as items (a string is one user message). */
export function inputItemsOf(request: ResponsesRequest): unknown[] {
  return typeof request.input === "string" ? [{ role: "user", content: request.input }] : request.input;
}

/** A response's output items that continue a conversation as input. */
export function turnsOf(response: Record<string, unknown>): unknown[] {
  const output = Array.isArray(response.output) ? response.output : [];
  return output.filter(
    (item: unknown) => turnTypes.has(String((item as { type?: unknown } | null)?.type)) && item !== null,
  );
}

/**
 * The whole conversation a request continues: the stored chain (the earlier response's input, which
 * already holds its own chain, and its output), then the request's input. A missing, expired or other
 * tenant's id is the same 404 naming `previous_response_id`.
 */
export async function conversationOf(
  store: ResponseStore,
  tenantId: string,
  request: ResponsesRequest,
): Promise<unknown[]> {
  const own = inputItemsOf(request);
  const previousId = request.previous_response_id;
  if (!previousId) return own;
  const previous = await store.get(tenantId, previousId);
  if (!previous) {
    throw new GatewayError("NOT_FOUND", `Previous response with id '${previousId}' not found.`, {
      param: "previous_response_id",
    });
  }
  return [...previous.inputItems, ...turnsOf(previous.response), ...own];
}

/**
 * The request the gateway answers for a stateful one: the whole conversation as input, no
 * `previous_response_id`, and `store: false` upstream (the gateway keeps the response, not the model).
 */
export function statelessRequest(request: ResponsesRequest, conversation: unknown[]): ResponsesRequest {
  const { previous_response_id: _previous, store: _store, ...rest } = request;
  return {
    ...rest,
    input: conversation as ResponsesRequest["input"],
    ...(request.store ? { store: false } : {}),
  };
}

/** The response as the client sees it: `store` and `previous_response_id` as it asked. */
export function echoState(
  response: Record<string, unknown>,
  request: ResponsesRequest,
): Record<string, unknown> {
  return {
    ...response,
    store: request.store === true,
    previous_response_id: request.previous_response_id ?? null,
  };
}

/**
 * The answer when the response store (Postgres) is down: the error shape with the store's own status,
 * which the edge turns into a 503 (a 5xx from the pool would mean "this region failed" to the edge).
 */
export function storeUnavailable(requestId: string): Response {
  const error = new GatewayError(
    "UPSTREAM_UNAVAILABLE",
    "The response store is unavailable; try again shortly.",
  );
  return Response.json(errorBody(error, requestId), { status: storeUnavailableStatus });
}

/** Runs a store operation; the store being down becomes {@link storeUnavailable}. */
export async function withStore<T>(requestId: string, work: () => Promise<T>): Promise<T | Response> {
  try {
    return await work();
  } catch (error: unknown) {
    if (error instanceof DependencyError && error.dependency === "postgres")
      return storeUnavailable(requestId);
    throw error;
  }
}
