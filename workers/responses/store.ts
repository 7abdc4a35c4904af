import { and, eq, gt, inArray, lte, sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import { withPostgres } from "../db/client.ts";
import { type StoredResponseRow, storedResponses } from "../db/schema.ts";

/** A response to keep: who asked, the whole conversation it answered and the response object sent. */
export interface NewStoredResponse {
  id: string;
  tenantId: string;
  keyId: string | null;
  model: string;
  previousResponseId: string | null;
  inputItems: unknown[];
  response: Record<string, unknown>;
}

/**
 * Stored Responses API answers, always scoped to a tenant: another tenant's id reads exactly like a
 * missing one. Failures are `DependencyError("postgres", …)`.
 */
export interface ResponseStore {
  save(row: NewStoredResponse): Promise<void>;
  /** The tenant's unexpired response with this id, or null. */
  get(tenantId: string, id: string): Promise<StoredResponseRow | null>;
  /** Deletes the tenant's response; false when there was none. */
  delete(tenantId: string, id: string): Promise<boolean>;
  /** Deletes up to `limit` expired responses; the number deleted. */
  deleteExpired(limit: number): Promise<number>;
}

/** How often a worker sweeps expired responses (after a save), and how many per sweep. */
const sweepEveryMs = 60_000;
const sweepBatch = 500;

/**
 * The store in Postgres (`stored_responses`), with a retention set once from the config. Expired rows
 * are invisible at once and deleted by a sweep that a save starts at most once a minute per worker.
 */
export class PostgresResponseStore implements ResponseStore {
  private lastSweep = 0;

  constructor(
    private readonly db: Database,
    private readonly retentionMs: number,
    private readonly onSweepError: (error: unknown) => void = () => {},
  ) {}

  async save(row: NewStoredResponse): Promise<void> {
    const now = Date.now();
    await withPostgres(() =>
      this.db
        .insert(storedResponses)
        .values({ ...row, createdAt: new Date(now), expiresAt: new Date(now + this.retentionMs) })
        // An id seen again (an upstream repeating ids) keeps the newest answer: what the client just got.
        .onConflictDoUpdate({
          target: [storedResponses.tenantId, storedResponses.id],
          set: {
            keyId: row.keyId,
            model: row.model,
            previousResponseId: row.previousResponseId,
            inputItems: row.inputItems,
            response: row.response,
            createdAt: new Date(now),
            expiresAt: new Date(now + this.retentionMs),
          },
        }),
    );
    if (now - this.lastSweep >= sweepEveryMs) {
      this.lastSweep = now;
      this.deleteExpired(sweepBatch).catch(this.onSweepError);
    }
  }

  async get(tenantId: string, id: string): Promise<StoredResponseRow | null> {
    const rows = await withPostgres(() =>
      this.db
        .select()
        .from(storedResponses)
        .where(
          and(
            eq(storedResponses.id, id),
            eq(storedResponses.tenantId, tenantId),
            gt(storedResponses.expiresAt, sql`now()`),
          ),
        )
        .limit(1),
    );
    return rows[0] ?? null;
  }

  async delete(tenantId: string, id: string): Promise<boolean> {
    const rows = await withPostgres(() =>
      this.db
        .delete(storedResponses)
        .where(and(eq(storedResponses.id, id), eq(storedResponses.tenantId, tenantId)))
        .returning({ id: storedResponses.id }),
    );
    return rows.length > 0;
  }

  async deleteExpired(limit: number): Promise<number> {
    return withPostgres(async () => {
      const expired = await this.db
        .select({ id: storedResponses.id })
        .from(storedResponses)
        .where(lte(storedResponses.expiresAt, sql`now()`))
        .limit(limit);
      if (expired.length === 0) return 0;
      const ids = expired.map((r) => r.id);
      const deleted = await this.db
        .delete(storedResponses)
        .where(and(inArray(storedResponses.id, ids), lte(storedResponses.expiresAt, sql`now()`)))
        .returning({ id: storedResponses.id });
      return deleted.length;
    });
  }
}
