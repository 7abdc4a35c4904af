/**
 * Local stand-in for Neon's WebSocket proxy: `@neondatabase/serverless` Pool/Client open
 * `ws://<host>:<port>/v1?address=<pg host>:<pg port>` and speak the Postgres wire protocol in
 * binary frames. Each WebSocket is piped to one TCP connection to the local Postgres.
 * Only the local Postgres is reachable through it (never an open relay). Run with Bun.
 */
import { connect, type Socket } from "node:net";
import type { ServerWebSocket } from "bun";

const listenHost = process.env.NEON_PROXY_HOST ?? "127.0.0.1";
const listenPort = Number.parseInt(process.env.NEON_PROXY_PORT ?? "4444", 10);
const postgresPort = Number.parseInt(process.env.NEON_PROXY_PG_PORT ?? "5432", 10);
const postgresHost = "127.0.0.1";
const allowedHosts = new Set(["127.0.0.1", "localhost"]);

interface Connection {
  tcp?: Socket;
}

/** Accepts only `127.0.0.1:<postgres port>` (or `localhost:` the same port). */
function isAllowedTarget(address: string | null): boolean {
  if (!address) return false;
  const separator = address.lastIndexOf(":");
  if (separator < 0) return false;
  const targetHost = address.slice(0, separator);
  const targetPort = Number(address.slice(separator + 1));
  return allowedHosts.has(targetHost) && targetPort === postgresPort;
}

function toBytes(message: string | Buffer): Buffer {
  return typeof message === "string" ? Buffer.from(message, "utf8") : message;
}

function openTcp(ws: ServerWebSocket<Connection>): void {
  const tcp = connect({ host: postgresHost, port: postgresPort });
  tcp.setNoDelay(true);
  ws.data.tcp = tcp;
  tcp.on("data", (chunk: Buffer) => {
    ws.send(chunk, false);
  });
  tcp.on("error", (error: Error) => {
    console.error(`neon-proxy: postgres connection failed: ${error.message}`);
  });
  tcp.on("close", () => {
    ws.close(1011, "postgres connection closed");
  });
}

const server = Bun.serve<Connection>({
  hostname: listenHost,
  port: listenPort,
  fetch(request, bunServer) {
    const url = new URL(request.url);
    if (url.pathname !== "/v1") return new Response("tiergate neon-proxy: connect a WebSocket to /v1\n");
    if (request.headers.get("upgrade")?.toLowerCase() !== "websocket") {
      return new Response("expected a WebSocket upgrade\n", { status: 426 });
    }
    if (!isAllowedTarget(url.searchParams.get("address"))) {
      return new Response(`only ${postgresHost}:${postgresPort} is reachable through this proxy\n`, {
        status: 403,
      });
    }
    if (bunServer.upgrade(request, { data: {} })) return undefined;
    return new Response("WebSocket upgrade failed\n", { status: 400 });
  },
  websocket: {
    open(ws) {
      openTcp(ws);
    },
    message(ws, message) {
      // net.Socket buffers writes made before it connects and under backpressure.
      ws.data.tcp?.write(toBytes(message));
    },
    close(ws) {
      ws.data.tcp?.end();
    },
  },
});

console.log(
  `neon-proxy listening on ws://${server.hostname}:${server.port}/v1 -> ${postgresHost}:${postgresPort}`,
);

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    server.stop(true);
    process.exit(0);
  });
}
