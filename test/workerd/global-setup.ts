import type { TestProject } from "vitest/node";
import { createApiKey, ensureTenant } from "../../workers/db/api-keys.ts";
import { createDatabase } from "../../workers/db/client.ts";
import { poolService } from "../stack/gateway.ts";
import { localPoolEnv } from "../stack/local-env.ts";
import { allServices } from "../stack/registry.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** A key of a second tenant, for cache isolation. */
    edgeOtherTenantKey: string;
    /** A key limited to 3 requests per minute. */
    edgeLimitedKey: string;
  }
}

/** The edge runs in workerd; behind it the real stack and the Bun pool must be up. */
export async function setup(project: TestProject): Promise<void> {
  for (const service of allServices) {
    await service.install();
    await service.start();
  }
  await poolService.start();
  const env = localPoolEnv();
  const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
  try {
    const run = Date.now();
    const keyOf = async (tenantId: string, rateLimitPerMinute: number) => {
      await ensureTenant(database.db, { id: tenantId, name: `edge tests ${tenantId}` });
      return (await createApiKey(database.db, { tenantId, name: "edge tests", rateLimitPerMinute })).key;
    };
    // Property tests send hundreds of requests: the main keys get a high limit.
    project.provide("edgeApiKey", await keyOf(`edge-tests-${run}`, 100_000));
    project.provide("edgeOtherTenantKey", await keyOf(`edge-tests-other-${run}`, 100_000));
    project.provide("edgeLimitedKey", await keyOf(`edge-tests-limited-${run}`, 3));
  } finally {
    await database.close();
  }
}
