import type { Context } from "hono";
import { adminPrefix, forgetKeysHeader } from "../../../shared/admin/routes.ts";
import { GatewayError } from "../../../shared/errors.ts";
import { headers } from "../../../shared/headers.ts";
import { keyCacheEntry } from "../../../shared/schemas/keys.ts";
import type { HonoEnv } from "../../types.ts";

/**
 * Deletes the cached lookups the pool named: this isolate's copy and the Redis entry every isolate reads
 * (awaited, so the next request anywhere asks the pool). Other isolates' own copies live out their
 * remaining time (at most KEY_CACHE_TTL_SECONDS), as after a revocation by the CLI.
 */
async function forgetKeys(c: Context<HonoEnv>, list: string | null): Promise<void> {
  if (!list) return;
  const { services } = c.var;
  const hashes = list.split(",").filter((hash) => /^[0-9a-f]{64}$/.test(hash));
  for (const hash of hashes) services.keys.forget(hash);
  await Promise.all(
    hashes.map((hash) =>
      services.redis.del(keyCacheEntry(hash)).catch((error: unknown) => {
        c.var.log.warn("could not delete a cached key lookup", { error });
        return 0;
      }),
    ),
  );
}

/**
 * Forwards an admin call to the pool (`/admin/v1/x` → `/internal/v1/admin/x`, same raw query), signed
 * with the credential's id and tenant, and answers the pool's JSON as it is.
 */
export async function forwardAdmin(c: Context<HonoEnv>, body: unknown): Promise<Response> {
  const { services, requestId, adminPrincipal } = c.var;
  const url = new URL(c.req.url);
  const method = c.req.method === "GET" ? "GET" : "POST";
  const result = await services.pool.forward({
    method,
    path: `${adminPrefix.pool}${url.pathname.slice(adminPrefix.edge.length)}${url.search}`,
    ...(method === "POST" ? { body: JSON.stringify(body ?? {}) } : {}),
    requestId,
    keyId: adminPrincipal.id,
    ...(adminPrincipal.tenantId ? { tenant: adminPrincipal.tenantId } : {}),
    deadline: Date.now() + services.config.POOL_TIMEOUT_MS,
    idempotent: method === "GET",
    recordHealth: false,
  });
  if (!result.ok) {
    throw new GatewayError("UPSTREAM_UNAVAILABLE", "The admin API is unavailable; try again.", {
      headers: { "retry-after": "1" },
    });
  }
  const text = await result.response.text().catch(() => undefined);
  result.settle(text === undefined);
  if (text === undefined) throw new GatewayError("UPSTREAM_UNAVAILABLE", "The admin API answer was cut off.");
  await forgetKeys(c, result.response.headers.get(forgetKeysHeader));
  return new Response(text, {
    status: result.response.status,
    headers: { "content-type": "application/json", [headers.requestId]: requestId },
  });
}
