import { and, desc, eq } from "drizzle-orm";
import { type Database, withPostgres } from "./client.ts";
import { requests } from "./schema.ts";

/** A request named by the server's id or by the client's own id. */
export type RequestReference = { requestId: string } | { clientRequestId: string };

/** Finds a tenant's request from the request rows in Postgres. */
export interface RequestOwnership {
  /**
   * The server's id of `tenant`'s request named by `reference` (for a client id used twice, the latest
   * request), or undefined when the tenant made no such request. Postgres failures throw DependencyError.
   */
  find(tenant: string, reference: RequestReference): Promise<string | undefined>;
}

/** Options of {@link postgresRequestOwnership}. */
export interface RequestOwnershipOptions {
  /**
   * Request rows reach Postgres in batches (RequestRowWriter, 250 ms), possibly from another worker:
   * a miss is asked again after each of these delays before it counts as "not yours".
   */
  retryDelaysMs?: readonly number[];
}

/** Request ownership looked up in the `requests` table by (tenant, request id). */
export function postgresRequestOwnership(
  db: Database,
  options: RequestOwnershipOptions = {},
): RequestOwnership {
  const delays = options.retryDelaysMs ?? [300, 700];
  const lookup = async (tenant: string, reference: RequestReference) => {
    const match =
      "requestId" in reference
        ? eq(requests.requestId, reference.requestId)
        : eq(requests.clientRequestId, reference.clientRequestId);
    const rows = await withPostgres(() =>
      db
        .select({ requestId: requests.requestId })
        .from(requests)
        .where(and(eq(requests.tenantId, tenant), match))
        .orderBy(desc(requests.createdAt))
        .limit(1),
    );
    return rows[0]?.requestId;
  };
  return {
    async find(tenant, reference) {
      const found = await lookup(tenant, reference);
      if (found) return found;
      for (const delay of delays) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        const later = await lookup(tenant, reference);
        if (later) return later;
      }
      return undefined;
    },
  };
}
