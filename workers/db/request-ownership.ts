import { and, eq } from "drizzle-orm";
import { type Database, withPostgres } from "./client.ts";
import { requests } from "./schema.ts";

/** Answers whether a request id belongs to a tenant, from the request rows in Postgres. */
export interface RequestOwnership {
  /** True when `tenant` made the request `requestId`. Postgres failures throw DependencyError. */
  owns(tenant: string, requestId: string): Promise<boolean>;
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
  const lookup = async (tenant: string, requestId: string) => {
    const rows = await withPostgres(() =>
      db
        .select({ requestId: requests.requestId })
        .from(requests)
        .where(and(eq(requests.requestId, requestId), eq(requests.tenantId, tenant)))
        .limit(1),
    );
    return rows.length > 0;
  };
  return {
    async owns(tenant, requestId) {
      if (await lookup(tenant, requestId)) return true;
      for (const delay of delays) {
        await new Promise((resolve) => setTimeout(resolve, delay));
        if (await lookup(tenant, requestId)) return true;
      }
      return false;
    },
  };
}
