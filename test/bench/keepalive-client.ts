/**
 * An HTTP/1.1 client for the load generators whose keep-alive idle timeout is set below the server's.
 * workerd (KJ's HTTP server) closes a keep-alive connection idle for 5 s; Bun's `fetch` pools idle
 * connections longer and offers no setting, so a request sent on a connection idle for about 5 s
 * races the server's close and fails with ECONNRESET without ever reaching the server. This client
 * (`node:http` with a keep-alive Agent) drops its idle connections after `idleMs`, before the server
 * would, so that race cannot happen; a failure on a reused connection is still reported as such
 * (`ReusedConnectionError`), never retried, so a generator counts it apart from other failures.
 */

import { Agent, request as httpRequest, type IncomingHttpHeaders } from "node:http";

/** workerd's keep-alive idle timeout (KJ HttpServerSettings.pipelineTimeout): 5 s, not configurable. */
export const workerdKeepAliveMs = 5_000;

/** A request failed on a connection that had served an earlier request (a keep-alive reuse). */
export class ReusedConnectionError extends Error {
  constructor(cause: unknown) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.name = "ReusedConnectionError";
  }
}

/** One request of {@link KeepAliveClient.send}. */
export interface KeepAliveRequest {
  url: string;
  method: string;
  headers: Record<string, string>;
  body: string;
  timeoutMs: number;
}

/** The answer: status, headers and the whole body. */
export interface KeepAliveAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** A pool of keep-alive connections that closes each one after `idleMs` of idleness. */
export class KeepAliveClient {
  private readonly agent: Agent;

  constructor(readonly idleMs = workerdKeepAliveMs - 1_000) {
    // `timeout` is the idle timeout of a pooled socket: the Agent destroys it when it fires.
    this.agent = new Agent({ keepAlive: true, timeout: idleMs, scheduling: "lifo" });
  }

  /** Sends one request and reads its whole answer; rejects on a failure or after `timeoutMs`. */
  send(request: KeepAliveRequest): Promise<KeepAliveAnswer> {
    return new Promise((resolve, reject) => {
      const url = new URL(request.url);
      const req = httpRequest(
        {
          host: url.hostname,
          port: url.port,
          path: `${url.pathname}${url.search}`,
          method: request.method,
          headers: { ...request.headers, "content-length": String(Buffer.byteLength(request.body)) },
          agent: this.agent,
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (chunk: Buffer) => chunks.push(chunk));
          res.on("end", () => {
            clearTimeout(timer);
            resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
          });
          res.on("error", fail);
        },
      );
      const timer = setTimeout(() => {
        const error = new Error(`no answer within ${request.timeoutMs} ms`);
        error.name = "TimeoutError";
        req.destroy(error);
      }, request.timeoutMs);
      function fail(error: unknown): void {
        clearTimeout(timer);
        const timedOut = error instanceof Error && error.name === "TimeoutError";
        reject(req.reusedSocket && !timedOut ? new ReusedConnectionError(error) : error);
      }
      req.on("error", fail);
      req.end(request.body);
    });
  }

  /** Closes every pooled connection. */
  close(): void {
    this.agent.destroy();
  }
}
