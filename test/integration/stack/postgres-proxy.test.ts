import { beforeAll, describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { host, ports } from "../../stack/ports.ts";
import { neonProxyService, postgresService } from "../../stack/services/postgres.ts";

/** Resolves with the HTTP status the proxy answers a WebSocket upgrade with (101 when accepted). */
function upgradeStatus(address: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${host}:${ports.neonProxy}/v1?address=${encodeURIComponent(address)}`);
    ws.once("upgrade", (response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("unexpected-response", (_request, response) => {
      resolve(response.statusCode ?? 0);
      ws.terminate();
    });
    ws.once("error", reject);
  });
}

describe("neon-proxy", () => {
  beforeAll(async () => {
    await postgresService.start();
    await neonProxyService.start();
  });

  it("answers plain HTTP (its health check)", async () => {
    expect(await neonProxyService.healthy()).toBe(true);
    const response = await fetch(`http://${host}:${ports.neonProxy}/`);
    expect(response.status).toBe(200);
  });

  it("accepts the local Postgres as target", async () => {
    expect(await upgradeStatus(`${host}:${ports.postgres}`)).toBe(101);
  });

  it("is not an open relay: other hosts and ports are refused", async () => {
    expect(await upgradeStatus("10.0.0.1:5432")).toBe(403);
    expect(await upgradeStatus(`${host}:22`)).toBe(403);
    expect(await upgradeStatus(`${host}:${ports.postgres + 1}`)).toBe(403);
    expect(await upgradeStatus("")).toBe(403);
  });
});
