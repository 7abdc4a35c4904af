/**
 * A V8 CPU profile of a process that exposes the inspector protocol (workerd's `--inspector-addr`), over
 * one WebSocket: `Profiler.start` now, `stop()` returns the `.cpuprofile` JSON. The same format Chrome's
 * DevTools and `bun --cpu-prof` write.
 */

interface CdpReply {
  id?: number;
  result?: { profile?: unknown };
  error?: { message: string };
}

/** Starts sampling (every `intervalUs`); `stop` ends it and gives the profile. */
export async function startCdpProfile(url: string, intervalUs = 250): Promise<{ stop(): Promise<unknown> }> {
  const socket = new WebSocket(url);
  await new Promise<void>((resolve, reject) => {
    socket.addEventListener("open", () => resolve(), { once: true });
    socket.addEventListener("error", () => reject(new Error(`inspector at ${url} refused`)), { once: true });
  });
  let nextId = 0;
  const waiting = new Map<number, (reply: CdpReply) => void>();
  socket.addEventListener("message", (event) => {
    const reply = JSON.parse(String(event.data)) as CdpReply;
    if (reply.id !== undefined) waiting.get(reply.id)?.(reply);
  });
  const send = (method: string, params: Record<string, unknown> = {}) =>
    new Promise<CdpReply>((resolve, reject) => {
      const id = ++nextId;
      waiting.set(id, (reply) => {
        waiting.delete(id);
        if (reply.error) reject(new Error(`${method}: ${reply.error.message}`));
        else resolve(reply);
      });
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send("Profiler.enable");
  await send("Profiler.setSamplingInterval", { interval: intervalUs });
  await send("Profiler.start");
  return {
    async stop() {
      const reply = await send("Profiler.stop");
      socket.close();
      return reply.result?.profile;
    },
  };
}
