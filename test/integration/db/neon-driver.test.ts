import { Client } from "@neondatabase/serverless";
import { eq, sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { requests, tenants } from "../../../workers/db/schema.ts";
import { localDbConfig, uniqueId, useLocalDatabase } from "./local-db.ts";

describe("Neon driver through the local WebSocket proxy", () => {
  const database = useLocalDatabase();

  it("runs a query on the Pool", async () => {
    const { rows } = await database().pool.query<{ sum: number; user: string }>(
      "SELECT $1::int + $2::int AS sum, current_user AS user",
      [40, 2],
    );
    expect(rows).toEqual([{ sum: 42, user: "tiergate" }]);
  });

  it("runs a query on a standalone Client", async () => {
    const client = new Client(localDbConfig.databaseUrl);
    await client.connect();
    try {
      const { rows } = await client.query<{ db: string }>("SELECT current_database() AS db");
      expect(rows[0]?.db).toBe("tiergate");
    } finally {
      await client.end();
    }
  });

  it("commits a drizzle transaction and rolls back a failed one", async () => {
    const committed = uniqueId("tenant");
    const rolledBack = uniqueId("tenant");
    await database().db.transaction(async (tx) => {
      await tx.insert(tenants).values({ id: committed, name: "committed" });
    });
    await expect(
      database().db.transaction(async (tx) => {
        await tx.insert(tenants).values({ id: rolledBack, name: "rolled back" });
        throw new Error("abort on purpose");
      }),
    ).rejects.toThrow("abort on purpose");

    const found = await database()
      .db.select({ id: tenants.id })
      .from(tenants)
      .where(sql`${tenants.id} in (${committed}, ${rolledBack})`);
    expect(found.map((r) => r.id)).toEqual([committed]);
  });

  it("writes and reads a request row with a real-valued latency", async () => {
    const requestId = uniqueId("req");
    await database().db.insert(requests).values({ requestId, status: 200, latencyMs: 12.5, cache: "miss" });
    const [row] = await database().db.select().from(requests).where(eq(requests.requestId, requestId));
    expect(row).toMatchObject({ requestId, status: 200, latencyMs: 12.5, cache: "miss", tenantId: null });
    expect(row?.createdAt).toBeInstanceOf(Date);
  });
});
