/**
 * Closed-loop load: `connections` loops, each sending its next request as soon as the previous one is
 * answered, for `seconds`. Measures latency (µs resolution), throughput, non-2xx answers, and counts
 * the values of one response header (e.g. `x-cache`), so a "hit" run can show it really hit.
 */

export interface ClosedLoopOptions {
  url: string;
  method?: string;
  headers: Record<string, string>;
  /** The body of request number `i`. */
  body: (i: number) => string;
  connections: number;
  seconds: number;
  /** Response header whose values are counted. */
  countHeader?: string;
  timeoutMs?: number;
}

export interface ClosedLoopResult {
  p50_ms: number;
  p99_ms: number;
  rps: number;
  non2xx: number;
  /** Values of `countHeader` and how often each came back. */
  header_counts: Record<string, number>;
}

export function quantileMs(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return Math.round(value * 1000) / 1000;
}

export async function closedLoop(options: ClosedLoopOptions): Promise<ClosedLoopResult> {
  const latencies: number[] = [];
  const headerCounts: Record<string, number> = {};
  let non2xx = 0;
  let sent = 0;
  const started = performance.now();
  const end = started + options.seconds * 1000;
  const loop = async () => {
    while (performance.now() < end) {
      const i = sent++;
      const begun = performance.now();
      try {
        const response = await fetch(options.url, {
          method: options.method ?? "POST",
          headers: options.headers,
          body: options.body(i),
          signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
        });
        await response.arrayBuffer();
        if (response.status < 200 || response.status > 299) non2xx++;
        if (options.countHeader) {
          const value = response.headers.get(options.countHeader) ?? "(none)";
          headerCounts[value] = (headerCounts[value] ?? 0) + 1;
        }
        latencies.push(performance.now() - begun);
      } catch {
        non2xx++;
      }
    }
  };
  await Promise.all(Array.from({ length: options.connections }, loop));
  const elapsedSeconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    p50_ms: quantileMs(latencies, 0.5),
    p99_ms: quantileMs(latencies, 0.99),
    rps: Math.round(latencies.length / elapsedSeconds),
    non2xx,
    header_counts: headerCounts,
  };
}
