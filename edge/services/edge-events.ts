import type { RequestEvent } from "../../shared/events.ts";
import { LingerBatch } from "../lib/linger-batch.ts";
import type { PoolClient } from "./pool-client.ts";

const maxBatch = 500;
const lingerMs = 50;
const maxBuffered = 5_000;

/**
 * Requests the edge answers itself (cache hits, deterministic fallbacks, refusals) never reach a pool,
 * so the edge sends their events to one: a signed `POST /internal/v1/events` with a batch, a short
 * linger after the first event. A batch that cannot be delivered is dropped and counted: these events
 * feed metrics, and the edge must never slow an answer down for them.
 */
export class EdgeEvents {
  private readonly batch = new LingerBatch<RequestEvent>((events) => this.send(events), lingerMs, maxBatch);
  dropped = 0;
  sent = 0;

  constructor(private readonly pool: PoolClient) {}

  /**
   * Queues an event. Returns the flush when this event started it (hand it to `waitUntil`: the flush
   * runs in this request's context), else null.
   */
  record(event: RequestEvent): Promise<void> | null {
    if (this.batch.queued >= maxBuffered) {
      this.dropped++;
      return null;
    }
    return this.batch.add(event);
  }

  private async send(events: RequestEvent[]): Promise<void> {
    const result = await this.pool.forward({
      method: "POST",
      path: "/internal/v1/events",
      body: JSON.stringify({ events }),
      requestId: `edge-events-${crypto.randomUUID()}`,
      deadline: Date.now() + 5_000,
      idempotent: true,
      recordHealth: false,
    });
    if (!result.ok) {
      this.dropped += events.length;
      return;
    }
    result.settle(!result.response.ok);
    await result.response.body?.cancel().catch(() => undefined);
    if (result.response.ok) this.sent += events.length;
    else this.dropped += events.length;
  }
}

/**
 * The event of a request answered at the edge: a cache hit (`edge-cache`), a deterministic fallback
 * (`edge-fallback`), or a refusal after the key was verified (`edge-refused`: a 4xx such as bad
 * input, a forbidden model or the rate limit).
 */
export function edgeEvent(fields: {
  requestId: string;
  tenant: string;
  /** The verified key's id (usage per key). */
  keyId?: string;
  userId: string | undefined;
  route?: string;
  model: string;
  cache: RequestEvent["cache"];
  status: number;
  fallbackReason: string;
  arrivedAt: number;
}): RequestEvent {
  const latency = Math.max(0, Date.now() - fields.arrivedAt);
  return {
    event_id: crypto.randomUUID(),
    ts: Date.now(),
    request_id: fields.requestId,
    tenant: fields.tenant,
    user_id: fields.userId ?? "",
    route: fields.route ?? "chat",
    tier: "edge",
    model: fields.model,
    model_version: "",
    provider: fields.fallbackReason
      ? "edge-fallback"
      : fields.status >= 400 && fields.status < 500
        ? "edge-refused"
        : "edge-cache",
    status: fields.status,
    cache: fields.cache,
    fallback_reason: fields.fallbackReason,
    queue_ms: 0,
    ttft_ms: latency,
    latency_ms: latency,
    prompt_tokens: 0,
    completion_tokens: 0,
    ...(fields.keyId ? { key_id: fields.keyId } : {}),
  };
}
