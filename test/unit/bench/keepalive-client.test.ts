import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { KeepAliveClient, ReusedConnectionError } from "../../bench/keepalive-client.ts";

const servers: Server[] = [];
const clients: KeepAliveClient[] = [];

/** A keep-alive server that keeps idle connections for a minute and counts the connections opened. */
async function server(onRequest?: (nth: number, destroy: () => void) => boolean) {
  const stats = { connections: 0, requests: 0 };
  const s = createServer((req, res) => {
    const nth = ++stats.requests;
    req.resume();
    req.on("end", () => {
      if (onRequest?.(nth, () => req.socket.destroy())) return;
      res.setHeader("x-cache", nth % 2 ? "HIT" : "MISS");
      res.end(`answer ${nth}`);
    });
  });
  s.keepAliveTimeout = 60_000;
  s.on("connection", () => stats.connections++);
  await new Promise<void>((resolve) => s.listen(0, "127.0.0.1", resolve));
  servers.push(s);
  return { url: `http://127.0.0.1:${(s.address() as AddressInfo).port}/v1/x`, stats };
}

function client(idleMs: number): KeepAliveClient {
  const c = new KeepAliveClient(idleMs);
  clients.push(c);
  return c;
}

const post = (url: string, timeoutMs = 5_000) => ({
  url,
  method: "POST",
  headers: {},
  body: "{}",
  timeoutMs,
});
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  for (const s of servers.splice(0)) {
    s.closeAllConnections();
    await new Promise((resolve) => s.close(resolve));
  }
});

describe("keep-alive client with an idle timeout below the server's", () => {
  it("reuses a connection while it is busy, and drops it once idle longer than its idle timeout", async () => {
    const { url, stats } = await server();
    const c = client(100);
    const first = await c.send(post(url));
    expect(first.status).toBe(200);
    expect(first.body.toString()).toBe("answer 1");
    expect(first.headers["x-cache"]).toBe("HIT");
    await c.send(post(url));
    expect(stats.connections).toBe(1);
    await sleep(400);
    await c.send(post(url));
    // The server would still have kept the old connection (60 s): the client closed it first.
    expect(stats.connections).toBe(2);
  });

  it("reports a failure on a reused connection apart from one on a fresh connection, without retrying", async () => {
    const { url, stats } = await server((nth, destroy) => {
      if (nth === 2 || nth === 3) destroy();
      return nth === 2 || nth === 3;
    });
    const c = client(1_000);
    await c.send(post(url));
    await expect(c.send(post(url))).rejects.toBeInstanceOf(ReusedConnectionError);
    // A new connection (the reused one is gone) that fails is an ordinary failure.
    const fresh = await c.send(post(url)).catch((error: unknown) => error);
    expect(fresh).toBeInstanceOf(Error);
    expect(fresh).not.toBeInstanceOf(ReusedConnectionError);
    expect(stats.requests).toBe(3);
  });

  it("gives up on a server that does not answer within the deadline", async () => {
    const { url } = await server(() => true);
    await expect(client(1_000).send(post(url, 100))).rejects.toMatchObject({ name: "TimeoutError" });
  });
});
