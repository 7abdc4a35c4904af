import { createServer, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

/** What the proxy does with the next requests. */
export type FaultMode = "pass" | "hang" | "error500" | "malformed";

/**
 * An HTTP proxy in front of a real service (the pool, the Redis REST bridge) that can block it: hang
 * without answering, answer 500, or answer malformed JSON — a small, in-process toxiproxy.
 */
export class FaultProxy {
  mode: FaultMode = "pass";
  /** Requests seen per path prefix, e.g. "/internal/v1/chat". */
  seen: string[] = [];
  private server: Server | undefined;
  private readonly hanging = new Set<ServerResponse>();

  constructor(private readonly target: string) {}

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (d: Buffer) => chunks.push(d));
      req.on("end", () => {
        this.seen.push(req.url ?? "");
        void this.answer(req.method ?? "GET", req.url ?? "/", req.headers, Buffer.concat(chunks), res);
      });
    });
    this.server.listen(0, "127.0.0.1");
    await new Promise((resolve) => this.server?.once("listening", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Answers every hanging request with 502, so nothing stays open. */
  release(): void {
    for (const res of this.hanging) res.destroy();
    this.hanging.clear();
  }

  async stop(): Promise<void> {
    this.release();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private async answer(
    method: string,
    url: string,
    headers: Record<string, string | string[] | undefined>,
    body: Buffer,
    res: ServerResponse,
  ): Promise<void> {
    // Key lookups always pass, so only the call under test meets the fault.
    const mode = url.startsWith("/internal/v1/keys") ? "pass" : this.mode;
    if (mode === "hang") {
      this.hanging.add(res);
      return;
    }
    if (mode === "error500") {
      res.writeHead(500, { "content-type": "application/json" }).end('{"error":{"message":"injected"}}');
      return;
    }
    if (mode === "malformed") {
      res
        .writeHead(200, { "content-type": "application/json" })
        .end('{"object":"chat.completion","choices":7}');
      return;
    }
    const forwarded: Record<string, string> = {};
    for (const [k, v] of Object.entries(headers)) {
      if (typeof v === "string" && k !== "host" && k !== "content-length") forwarded[k] = v;
    }
    try {
      const upstream = await fetch(`${this.target}${url}`, {
        method,
        headers: forwarded,
        body: method === "GET" ? undefined : new Uint8Array(body),
      });
      const out: Record<string, string> = {};
      upstream.headers.forEach((value, key) => {
        if (key !== "content-length" && key !== "transfer-encoding" && key !== "content-encoding")
          out[key] = value;
      });
      res.writeHead(upstream.status, out);
      const reader = upstream.body?.getReader();
      for (let next = await reader?.read(); next && !next.done; next = await reader?.read()) {
        res.write(next.value);
      }
      res.end();
    } catch {
      res.destroy();
    }
  }
}
