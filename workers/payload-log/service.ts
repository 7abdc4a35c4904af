import { z } from "zod";
import type { Logger } from "../../shared/logger.ts";
import type { ClickHouse } from "../clickhouse/client.ts";
import { RowBatcher } from "../semantic-cache/row-batcher.ts";

/** One logged exchange: what the pool received and what it answered. */
export interface PayloadRecord {
  tenant: string;
  requestId: string;
  keyId: string;
  route: string;
  /** The request body as the pool received it (after any redaction at the edge). */
  request: string;
  response: string;
  retentionDays: number;
}

const payloadRow = z.object({
  ts: z.string(),
  request_id: z.string(),
  key_id: z.string(),
  route: z.string(),
  request: z.string(),
  response: z.string(),
});
/** A row as a tenant reads it back. */
export type PayloadRow = z.infer<typeof payloadRow>;

function chTime(date: Date): string {
  return date.toISOString().replace("T", " ").replace("Z", "");
}

/**
 * Payload logging into ClickHouse `payload_logs`: written in batches off the request path (a failed
 * write is logged and dropped, never surfaced), read back only by the tenant that owns the rows.
 */
export class PayloadLogService {
  readonly #writes: RowBatcher<Record<string, unknown>>;

  constructor(
    private readonly ch: ClickHouse,
    logger: Logger,
  ) {
    this.#writes = new RowBatcher({
      write: (rows) => ch.insert("payload_logs", rows),
      onDrop: (rows, error) =>
        logger.warn("payload log rows not written", {
          rows,
          error: error instanceof Error ? error.message : String(error),
        }),
    });
  }

  /** Queues one exchange; never throws. */
  record(entry: PayloadRecord): void {
    this.#writes.add({
      tenant: entry.tenant,
      request_id: entry.requestId,
      key_id: entry.keyId,
      route: entry.route,
      request: entry.request,
      response: entry.response,
      expires_at: chTime(new Date(Date.now() + entry.retentionDays * 86_400_000)),
    });
  }

  /** The tenant's own live rows, newest first (at most `limit`, 1–1000). */
  async list(tenant: string, options: { limit?: number; requestId?: string } = {}): Promise<PayloadRow[]> {
    const limit = Math.min(1000, Math.max(1, Math.trunc(options.limit ?? 100)));
    return this.ch.query(
      `SELECT toString(ts) AS ts, request_id, key_id, route, request, response
       FROM payload_logs
       WHERE tenant = {tenant:String} AND expires_at > now64(3)
         AND ({request_id:String} = '' OR request_id = {request_id:String})
       ORDER BY ts DESC
       LIMIT {limit:UInt32}`,
      { tenant, request_id: options.requestId ?? "", limit },
      payloadRow,
    );
  }

  flush(): Promise<void> {
    return this.#writes.flush();
  }

  close(): Promise<void> {
    return this.#writes.close();
  }
}
