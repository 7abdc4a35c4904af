/**
 * The V8 heap of a process that exposes the inspector protocol (workerd's `--inspector-addr`), over one
 * WebSocket: the used JS heap (`Runtime.getHeapUsage`), a forced full GC
 * (`HeapProfiler.collectGarbage`) and heap snapshots summarised by constructor, so a soak can tell a
 * growing JS heap (a leak in the app) from growth outside it (native memory, allocator).
 */

import { type HeapSummary, summariseHeapSnapshot } from "./heap-summary.ts";

interface CdpMessage {
  id?: number;
  method?: string;
  params?: { chunk?: string };
  result?: { usedSize?: number; totalSize?: number };
  error?: { message: string };
}

/** One inspector session on the heap of the isolate at `url` (`ws://127.0.0.1:<port>/<service>`). */
export interface CdpHeap {
  /** Used and total JS heap in bytes, as it is now (no GC). */
  usage(): Promise<{ usedBytes: number; totalBytes: number }>;
  /** Forces a full GC, then reads the heap usage. */
  usageAfterGc(): Promise<{ usedBytes: number; totalBytes: number }>;
  /** Takes a heap snapshot (it forces a GC and pauses the isolate meanwhile) and summarises it. */
  snapshot(): Promise<HeapSummary>;
  close(): void;
}

/** Connects to the inspector at `url`. */
export async function connectCdpHeap(url: string): Promise<CdpHeap> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`inspector at ${url} refused`)), { once: true });
  });
  let nextId = 0;
  const waiting = new Map<number, (message: CdpMessage) => void>();
  let chunks: string[] | undefined;
  socket.addEventListener("message", (event) => {
    const message = JSON.parse(String(event.data)) as CdpMessage;
    if (message.method === "HeapProfiler.addHeapSnapshotChunk") chunks?.push(message.params?.chunk ?? "");
    else if (message.id !== undefined) waiting.get(message.id)?.(message);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<CdpMessage>((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (message) => {
        waiting.delete(id);
        if (message.error) reject(new Error(`${method}: ${message.error.message}`));
        else resolve(message);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  const usage = async () => {
    const reply = await send("Runtime.getHeapUsage");
    return {
      usedBytes: reply.result?.usedSize ?? Number.NaN,
      totalBytes: reply.result?.totalSize ?? Number.NaN,
    };
  };
  return {
    usage,
    async usageAfterGc() {
      await send("HeapProfiler.collectGarbage");
      return usage();
    },
    async snapshot() {
      chunks = [];
      await send("HeapProfiler.takeHeapSnapshot", { reportProgress: false });
      const text = chunks.join("");
      chunks = undefined;
      return summariseHeapSnapshot(JSON.parse(text));
    },
    close: () => socket.close(),
  };
}
