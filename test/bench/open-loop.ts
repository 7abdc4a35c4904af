import { quantileMs } from "./closed-loop.ts";

/**
 * Open-loop load at a fixed rate: request i is due at start + i / rate, whatever happened to earlier
 * ones (arrivals evenly spaced, not in bursts per connection as autocannon's `overallRate` sends them),
 * and its latency counts from when it was due, so a stalled server is not hidden by a stalled client
 * (no coordinated omission). Latencies have microsecond resolution.
 */

export interface OpenLoopOptions {
  url: string;
  method?: string;
  headers: Record<string, string>;
  /** The body of request number `i`. */
  body: (i: number) => string;
  rate: number;
  seconds: number;
  /** Requests whose answer takes longer than this count as errors. */
  timeoutMs?: number;
  /** Response header whose values are counted. */
  countHeader?: string;
}

export interface OpenLoopResult {
  p50_ms: number;
  p99_ms: number;
  /** Answers per second over the run. */
  rps: number;
  non2xx: number;
  /** Mean lateness of sends against their due time (the client's own lag), ms. */
  send_lag_ms: number;
  /** Values of `countHeader` and how often each came back. */
  header_counts: Record<string, number>;
}

/** Runs the load and resolves when every request has answered or timed out. */
export async function openLoop(options: OpenLoopOptions): Promise<OpenLoopResult> {
  const total = Math.round(options.rate * options.seconds);
  const intervalMs = 1000 / options.rate;
  const latencies: number[] = [];
  let non2xx = 0;
  let lagSum = 0;
  const headerCounts: Record<string, number> = {};
  const inFlight: Promise<void>[] = [];
  const started = performance.now();

  const fire = (i: number, due: number) => {
    lagSum += performance.now() - due;
    inFlight.push(
      fetch(options.url, {
        method: options.method ?? "POST",
        headers: options.headers,
        body: options.body(i),
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      })
        .then(async (response) => {
          await response.arrayBuffer();
          if (response.status < 200 || response.status > 299) non2xx++;
          if (options.countHeader) {
            const value = response.headers.get(options.countHeader) ?? "(none)";
            headerCounts[value] = (headerCounts[value] ?? 0) + 1;
          }
          latencies.push(performance.now() - due);
        })
        .catch(() => {
          non2xx++;
        }),
    );
  };

  let next = 0;
  while (next < total) {
    const now = performance.now();
    while (next < total && started + next * intervalMs <= now) {
      fire(next, started + next * intervalMs);
      next++;
    }
    const wait = started + next * intervalMs - performance.now();
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, wait)));
  }
  await Promise.all(inFlight);
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    p50_ms: quantileMs(latencies, 0.5),
    p99_ms: quantileMs(latencies, 0.99),
    rps: Math.round(latencies.length / elapsedSeconds),
    non2xx,
    send_lag_ms: Math.round((lagSum / Math.max(1, total)) * 1000) / 1000,
    header_counts: headerCounts,
  };
}
