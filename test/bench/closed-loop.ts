import { type LoadRequest, type LoadResult, LoadTally } from "./load.ts";

/**
 * Closed-loop load: `connections` loops, each sending its next request as soon as the previous one is
 * answered, for `seconds`. Measures latency (µs resolution), throughput, non-2xx answers, and counts
 * the values of one response header (e.g. `x-cache`), so a "hit" run can show it really hit.
 */
export async function closedLoop(
  options: LoadRequest & { connections: number; seconds: number },
): Promise<LoadResult> {
  const tally = new LoadTally(options);
  let sent = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) await tally.send(sent++, performance.now());
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  return tally.result((performance.now() - started) / 1000);
}
