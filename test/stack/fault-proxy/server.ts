/**
 * A small HTTP fault proxy (Bun) in front of one upstream, for failover tests. The data port forwards
 * requests; a separate control port sets the fault:
 *
 *   POST /fault {"mode":"pass"}                       forward unchanged
 *   POST /fault {"mode":"refuse"}                     close the data port (connection refused)
 *   POST /fault {"mode":"delay","ms":N}               wait N ms, then forward
 *   POST /fault {"mode":"status","status":500|429}    answer that status with an OpenAI error body
 *   POST /fault {"mode":"cut","afterBytes":N}         forward the status and headers, then cut the
 *                                                     body after N bytes (0 = before the first token)
 *   GET  /stats                                       {"requests":n,"mode":…} (n counts /v1/ calls)
 *
 * Usage: bun test/stack/fault-proxy/server.ts --upstream=http://127.0.0.1:8000 --port=P --control-port=C
 */
import { parseArgs } from "node:util";

export type Fault =
  | { mode: "pass" }
  | { mode: "refuse" }
  | { mode: "delay"; ms: number }
  | { mode: "status"; status: number }
  | { mode: "cut"; afterBytes: number };

const { values } = parseArgs({
  options: {
    upstream: { type: "string" },
    port: { type: "string", default: "0" },
    "control-port": { type: "string", default: "0" },
    host: { type: "string", default: "127.0.0.1" },
  },
});
const upstream = (values.upstream ?? "http://127.0.0.1:8000").replace(/\/+$/, "");
const host = values.host ?? "127.0.0.1";
let fault: Fault = { mode: "pass" };
let requests = 0;

/** Passes a body through, then errors it after `limit` bytes: the client sees a connection cut mid-body. */
function cutAfter(body: ReadableStream<Uint8Array>, limit: number): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent >= limit) {
        await reader.cancel();
        controller.error(new Error("fault proxy: cut"));
        return;
      }
      const { done, value } = await reader.read();
      if (done) {
        controller.close();
        return;
      }
      const room = limit - sent;
      const part = value.byteLength > room ? value.subarray(0, room) : value;
      sent += part.byteLength;
      if (part.byteLength > 0) controller.enqueue(part);
    },
    cancel: (reason) => reader.cancel(reason),
  });
}

async function forward(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (url.pathname.startsWith("/v1/")) requests++; // model calls only, not /metrics scrapes
  const current = fault;
  if (current.mode === "delay") await Bun.sleep(current.ms);
  if (current.mode === "status") {
    return Response.json(
      {
        error: {
          message: `fault proxy: injected ${current.status}`,
          type: "server_error",
          code: null,
          param: null,
        },
      },
      { status: current.status, headers: current.status === 429 ? { "retry-after": "1" } : {} },
    );
  }
  const headers = new Headers(request.headers);
  headers.delete("host");
  const upstreamResponse = await fetch(`${upstream}${url.pathname}${url.search}`, {
    method: request.method,
    headers,
    body: request.method === "GET" || request.method === "HEAD" ? undefined : await request.arrayBuffer(),
    signal: request.signal,
  });
  const responseHeaders = new Headers(upstreamResponse.headers);
  responseHeaders.delete("content-length");
  responseHeaders.delete("content-encoding");
  if (current.mode === "cut" && upstreamResponse.body) {
    return new Response(cutAfter(upstreamResponse.body, current.afterBytes), {
      status: upstreamResponse.status,
      headers: responseHeaders,
    });
  }
  return new Response(upstreamResponse.body, { status: upstreamResponse.status, headers: responseHeaders });
}

let dataPort = Number(values.port);
let data: ReturnType<typeof Bun.serve> | undefined;
function listen(): void {
  data = Bun.serve({ hostname: host, port: dataPort, idleTimeout: 120, fetch: forward });
  dataPort = data.port ?? dataPort;
}
listen();

const control = Bun.serve({
  hostname: host,
  port: Number(values["control-port"]),
  async fetch(request) {
    const path = new URL(request.url).pathname;
    if (request.method === "GET" && path === "/stats")
      return Response.json({ requests, mode: fault.mode, port: dataPort });
    if (request.method === "POST" && path === "/fault") {
      const next = (await request.json()) as Fault;
      if (next.mode === "refuse" && data) {
        data.stop(true);
        data = undefined;
      } else if (next.mode !== "refuse" && !data) {
        listen();
      }
      fault = next;
      return Response.json({ ok: true, mode: fault.mode, port: dataPort });
    }
    if (request.method === "POST" && path === "/reset-stats") {
      requests = 0;
      return Response.json({ ok: true });
    }
    return new Response("not found", { status: 404 });
  },
});

// The parent reads this line to learn both ports.
console.log(JSON.stringify({ ready: true, port: dataPort, controlPort: control.port }));
