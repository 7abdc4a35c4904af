import { type LoadRequest, type LoadResult, LoadTally } from "./load.ts";

/**
 * Open-loop load at a fixed rate: request i is due at start + i / rate, whatever happened to earlier
 * ones (arrivals evenly spaced, not in bursts per connection as autocannon's `overallRate` sends them),
 * and its latency counts from when it was due, so a stalled server is not hidden by a stalled client
 * (no coordinated omission). Latencies have microsecond resolution. Resolves when every request has
 * answered or timed out; `send_lag_ms` is the mean lateness of sends (the client's own lag).
 */
export async function openLoop(
  options: LoadRequest & { rate: number; seconds: number },
): Promise<LoadResult & { send_lag_ms: number }> {
  const tally = new LoadTally(options);
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const inFlight: Promise<void>[] = [];
  const started = performance.now();
  let lagSum = 0;
  let next = 0;
  while (next < total) {
    const now = performance.now();
    for (; next < total && started + next * intervalMs <= now; next++) {
      const due = started + next * intervalMs;
      lagSum += now - due;
      inFlight.push(tally.send(next, due));
    }
    const wait = started + next * intervalMs - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  await Promise.all(inFlight);
  tally.close();
  return {
    ...tally.result((performance.now() - started) / 1000),
    send_lag_ms: Math.round((lagSum / Math.max(1, total)) * 1000) / 1000,
  };
}
