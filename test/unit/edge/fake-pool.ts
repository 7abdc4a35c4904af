import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { sha256Hex } from "../../../shared/signing.ts";

/** How the fake regional pool answers chat calls. */
export type ChatMode =
  | { kind: "json"; delayMs?: number; content?: string; echo?: boolean }
  | { kind: "stream"; tokens: string[]; gapMs?: number; cutAfter?: number; noDone?: boolean }
  | { kind: "status"; status: number }
  | { kind: "malformed" }
  | { kind: "hang" };

/** Both keys have the shape of issued keys (`tg_` + 32 base62), or the edge refuses them unasked. */
export const goodKey = `tg_${"unitGood".padEnd(32, "0")}`;
export const revokedKey = `tg_${"unitRevoked".padEnd(32, "0")}`;

/**
 * A stand-in for the Bun pool in in-process tests: it answers key verification for two known keys and
 * chat calls as `mode` says, and counts calls. Signatures are not checked (the pool's own tests do).
 */
export class FakePool {
  mode: ChatMode = { kind: "json" };
  chatCalls = 0;
  /** Key verification calls (each a Postgres query in the real pool). */
  keyLookups = 0;
  lastHeaders: IncomingMessage["headers"] = {};
  /** The body of the last chat call, as the pool received it. */
  lastChatBody = "";
  /** Events the edge sent (`POST /internal/v1/events`), in order. */
  events: Record<string, unknown>[] = [];
  /** Extra fields of the good key's verification answer (guardrails, contract, …). */
  keyExtras: Record<string, unknown> = {};
  /** Sent as `x-tiergate-pool-load` on chat answers (a pool worker's `<in flight>/<cap>`). */
  poolLoad: string | undefined;
  /** Sent as `server-timing` on chat answers when set. */
  serverTiming: string | undefined;
  private server: Server | undefined;
  private readonly open = new Set<ServerResponse>();

  async start(): Promise<string> {
    const hashes = new Map([
      [await sha256Hex(goodKey), "active"],
      [await sha256Hex(revokedKey), "revoked"],
    ]);
    this.server = createServer((req, res) => {
      let body = "";
      req.on("data", (d: Buffer) => {
        body += d.toString();
      });
      req.on("end", () => {
        this.lastHeaders = req.headers;
        if (req.url === "/internal/v1/keys/verify") {
          this.keyLookups++;
          const hash = (JSON.parse(body) as { key_hash: string }).key_hash;
          const status = hashes.get(hash);
          const key = status
            ? {
                keyId: `key_${status}`,
                tenantId: "unit-tenant",
                status,
                allowedModels: null,
                rateLimitPerMinute: null,
                cacheTtlSeconds: null,
                ...this.keyExtras,
              }
            : null;
          res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ key }));
          return;
        }
        if (req.url === "/internal/v1/events") {
          this.events.push(...(JSON.parse(body) as { events: Record<string, unknown>[] }).events);
          res.writeHead(202, { "content-type": "application/json" }).end('{"accepted":1}');
          return;
        }
        if (req.url === "/internal/v1/chat/completions") {
          this.chatCalls++;
          this.lastChatBody = body;
          this.answerChat(res, JSON.parse(body) as { model: string });
          return;
        }
        res.writeHead(404).end();
      });
    });
    this.server.listen(0, "127.0.0.1");
    await new Promise((resolve) => this.server?.once("listening", resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    this.server?.closeAllConnections();
    await new Promise((resolve) => this.server?.close(resolve));
  }

  private answerChat(
    res: ServerResponse,
    request: { model: string; messages?: { content?: unknown }[] },
  ): void {
    const mode = this.mode;
    const load = {
      ...(this.poolLoad ? { "x-tiergate-pool-load": this.poolLoad } : {}),
      ...(this.serverTiming ? { "server-timing": this.serverTiming } : {}),
    };
    const completion = (content: string) => ({
      id: "chatcmpl-fake",
      object: "chat.completion",
      created: 1,
      model: request.model,
      choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
      usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 },
    });
    if (mode.kind === "hang") {
      this.open.add(res);
      return;
    }
    if (mode.kind === "status") {
      res
        .writeHead(mode.status, { "content-type": "application/json", ...load })
        .end('{"error":{"message":"x"}}');
      return;
    }
    if (mode.kind === "malformed") {
      res.writeHead(200, { "content-type": "application/json" }).end('{"choices": "nope"');
      return;
    }
    if (mode.kind === "json") {
      setTimeout(
        () =>
          res
            .writeHead(200, { "content-type": "application/json", ...load })
            .end(
              JSON.stringify(
                completion(
                  mode.echo
                    ? String(request.messages?.at(-1)?.content ?? "")
                    : (mode.content ?? "fake answer"),
                ),
              ),
            ),
        mode.delayMs ?? 0,
      );
      return;
    }
    this.open.add(res);
    res.writeHead(200, { "content-type": "text/event-stream" });
    const chunk = (delta: Record<string, unknown>, finish: string | null) =>
      `data: ${JSON.stringify({
        id: "chatcmpl-fake",
        object: "chat.completion.chunk",
        created: 1,
        model: request.model,
        choices: [{ index: 0, delta, finish_reason: finish }],
      })}\n\n`;
    res.write(chunk({ role: "assistant", content: "" }, null));
    let i = 0;
    const next = () => {
      if (mode.cutAfter !== undefined && i >= mode.cutAfter) {
        res.destroy();
        return;
      }
      const token = mode.tokens[i++];
      if (token !== undefined) {
        res.write(chunk({ content: token }, null));
        setTimeout(next, mode.gapMs ?? 0);
        return;
      }
      res.write(chunk({}, "stop"));
      if (!mode.noDone) res.write("data: [DONE]\n\n");
      res.end();
    };
    setTimeout(next, mode.gapMs ?? 0);
  }
}

/** Edge bindings for in-process tests: Redis unreachable (the cache and limiter degrade), pool = fakes. */
export function unitEnv(regions: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    UPSTASH_REDIS_REST_URL: "http://127.0.0.1:9",
    UPSTASH_REDIS_REST_TOKEN: "t",
    POOL_REGIONS: regions,
    POOL_SIGNING_SECRET: "x".repeat(32),
    ...extra,
  };
}

export function chatInit(body: unknown, headers: Record<string, string> = {}): RequestInit {
  return {
    method: "POST",
    headers: { authorization: `Bearer ${goodKey}`, "content-type": "application/json", ...headers },
    body: JSON.stringify(body),
  };
}
