import { createConnection, type Socket } from "node:net";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { encodeCommands, type RespArg, RespDecoder, type RespValue } from "./resp.ts";

export interface RedisPoolOptions {
  host: string;
  port: number;
  /** Persistent connections; requests are pipelined on them. */
  size?: number;
  /** Gives up connecting after this long (Redis down or unreachable). */
  connectTimeoutMs?: number;
  /** A batch whose replies take longer than this fails, and its connection is dropped. */
  replyTimeoutMs?: number;
}

interface PendingBatch {
  expected: number;
  replies: RespValue[];
  resolve: (replies: RespValue[]) => void;
  reject: (error: DependencyError) => void;
  timer: ReturnType<typeof setTimeout>;
}

/** One pipelined Redis connection: batches are written whole and answered in FIFO order. */
class RedisConnection {
  private socket: Socket | undefined;
  private connecting: Promise<Socket> | undefined;
  private readonly decoder = new RespDecoder();
  private readonly pending: PendingBatch[] = [];

  constructor(private readonly options: Required<RedisPoolOptions>) {}

  get inFlight(): number {
    return this.pending.length;
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  async send(commands: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    const socket = this.socket ?? (await this.connect());
    const payload = encodeCommands(commands);
    return new Promise<RespValue[]>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.fail(socket, `no reply within ${this.options.replyTimeoutMs} ms`);
      }, this.options.replyTimeoutMs);
      this.pending.push({ expected: commands.length, replies: [], resolve, reject, timer });
      socket.write(payload);
    });
  }

  close(): void {
    if (this.socket) this.fail(this.socket, "bridge shutting down");
  }

  private connect(): Promise<Socket> {
    if (this.connecting) return this.connecting;
    const { host, port, connectTimeoutMs } = this.options;
    this.connecting = new Promise<Socket>((resolve, reject) => {
      const socket = createConnection({ host, port });
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new DependencyError("redis", true, `connect to ${host}:${port} timed out`));
      }, connectTimeoutMs);
      socket.once("connect", () => {
        clearTimeout(timer);
        this.decoder.reset();
        this.socket = socket;
        socket.on("data", (chunk: Buffer) => this.onData(socket, chunk));
        socket.on("close", () => this.fail(socket, "connection closed"));
        resolve(socket);
      });
      socket.on("error", (error: Error) => {
        clearTimeout(timer);
        if (this.socket === socket) this.fail(socket, error.message, error);
        else
          reject(
            new DependencyError("redis", true, `connect to ${host}:${port}: ${error.message}`, {
              cause: error,
            }),
          );
      });
    }).finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    let replies: RespValue[];
    try {
      replies = this.decoder.push(chunk);
    } catch (error: unknown) {
      this.fail(socket, error instanceof Error ? error.message : String(error), error);
      return;
    }
    for (const reply of replies) {
      const head = this.pending[0];
      if (!head) {
        this.fail(socket, "unexpected reply with no request waiting");
        return;
      }
      head.replies.push(reply);
      if (head.replies.length === head.expected) {
        this.pending.shift();
        clearTimeout(head.timer);
        head.resolve(head.replies);
      }
    }
  }

  /** Drops the connection and fails everything in flight on it; the next send reconnects. */
  private fail(socket: Socket, reason: string, cause?: unknown): void {
    if (this.socket === socket) this.socket = undefined;
    socket.destroy();
    const error = new DependencyError("redis", true, reason, { cause });
    for (const batch of this.pending.splice(0)) {
      clearTimeout(batch.timer);
      batch.reject(error);
    }
  }
}

/**
 * A small pool of persistent, pipelined connections to one Redis. Every call sends its commands in
 * a single write on one connection, so a MULTI … EXEC block is never interleaved with other calls.
 * Connection failures and timeouts reject with a retryable DependencyError("redis").
 */
export class RedisPool {
  private readonly connections: RedisConnection[];

  constructor(options: RedisPoolOptions) {
    const full: Required<RedisPoolOptions> = {
      size: 2,
      connectTimeoutMs: 1_000,
      replyTimeoutMs: 5_000,
      ...options,
    };
    this.connections = Array.from({ length: Math.max(1, full.size) }, () => new RedisConnection(full));
  }

  /** Sends commands as one pipelined batch and resolves with one reply per command (errors included as values). */
  exec(commands: readonly (readonly RespArg[])[]): Promise<RespValue[]> {
    return this.pick().send(commands);
  }

  close(): void {
    for (const connection of this.connections) connection.close();
  }

  private pick(): RedisConnection {
    // Least loaded wins; an unconnected slot counts one extra so idle open connections are reused first.
    const load = (c: RedisConnection) => c.inFlight + (c.connected ? 0 : 1);
    let best = this.connections[0];
    for (const connection of this.connections) {
      if (best === undefined || load(connection) < load(best)) best = connection;
    }
    if (!best) throw new Error("empty Redis pool");
    return best;
  }
}
