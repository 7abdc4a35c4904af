import { splitTimes, type TimeSample, type TimeSplit, timingOf } from "./time-split.ts";

/** What the load generators (closed-loop.ts, open-loop.ts) share: the request, the tally, the result. */

export interface LoadRequest {
  url: string;
  method?: string;
  headers: Record<string, string>;
  /** The body of request number `i`. */
  body: (i: number) => string;
  /** Requests whose answer takes longer than this count as errors. */
  timeoutMs?: number;
  /** Response header whose values are counted. */
  countHeader?: string;
  /** Split the 2xx answers' time by the edge's `server-timing` (time-split.ts). */
  splitTimes?: boolean;
}

export interface LoadResult {
  p50_ms: number;
  p99_ms: number;
  /** Answers per second over the run. */
  rps: number;
  non2xx: number;
  /** Answers by status class ("2xx", "4xx", "5xx"), and "failed" for requests that got no answer. */
  status_classes: Record<string, number>;
  /** Why requests got no answer (the error's name and message), and how often. */
  failures: Record<string, number>;
  /** Values of `countHeader` and how often each came back. */
  header_counts: Record<string, number>;
  /** Answers by exact status. */
  status_counts: Record<string, number>;
  /** p99 over the 2xx answers only (what a shedding server keeps fast). */
  p99_ok_ms: number;
  /** Where the 2xx answers spent their time (with `splitTimes`, when the edge sent `server-timing`). */
  time_split?: TimeSplit;
}

function quantileMs(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0;
  const value = sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)] ?? 0;
  return Math.round(value * 1000) / 1000;
}

/** Sends request `i` and tallies its answer; latency counts from `since` (performance.now()). */
export class LoadTally {
  private readonly latencies: number[] = [];
  private readonly okLatencies: number[] = [];
  private readonly statusCounts: Record<string, number> = {};
  private readonly headerCounts: Record<string, number> = {};
  private non2xx = 0;
  private readonly statusClasses: Record<string, number> = {};
  private readonly failures: Record<string, number> = {};
  private readonly timeSamples: TimeSample[] = [];

  constructor(private readonly request: LoadRequest) {}

  async send(i: number, since: number): Promise<void> {
    try {
      const response = await fetch(this.request.url, {
        method: this.request.method ?? "POST",
        headers: this.request.headers,
        body: this.request.body(i),
        signal: AbortSignal.timeout(this.request.timeoutMs ?? 10_000),
      });
      await response.arrayBuffer();
      if (response.status < 200 || response.status > 299) this.non2xx++;
      this.countClass(`${Math.floor(response.status / 100)}xx`);
      if (this.request.countHeader) {
        const value = response.headers.get(this.request.countHeader) ?? "(none)";
        this.headerCounts[value] = (this.headerCounts[value] ?? 0) + 1;
      }
      const latency = performance.now() - since;
      this.latencies.push(latency);
      if (response.ok) {
        this.okLatencies.push(latency);
        if (this.request.splitTimes) this.sampleTimes(response, latency);
      }
      this.statusCounts[response.status] = (this.statusCounts[response.status] ?? 0) + 1;
    } catch (error: unknown) {
      this.non2xx++;
      this.countClass("failed");
      const reason = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 120) : String(error);
      this.failures[reason] = (this.failures[reason] ?? 0) + 1;
    }
  }

  private sampleTimes(response: Response, total: number): void {
    const timing = response.headers.get("server-timing");
    const edge = timingOf(timing, "edge");
    const pool = timingOf(timing, "pool");
    if (edge !== undefined && pool !== undefined) this.timeSamples.push({ total, edge, pool });
  }

  private countClass(name: string): void {
    this.statusClasses[name] = (this.statusClasses[name] ?? 0) + 1;
  }

  result(elapsedSeconds: number): LoadResult {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      p50_ms: quantileMs(sorted, 0.5),
      p99_ms: quantileMs(sorted, 0.99),
      rps: Math.round(sorted.length / elapsedSeconds),
      non2xx: this.non2xx,
      status_classes: this.statusClasses,
      failures: this.failures,
      header_counts: this.headerCounts,
      status_counts: this.statusCounts,
      p99_ok_ms: quantileMs(
        [...this.okLatencies].sort((a, b) => a - b),
        0.99,
      ),
      ...(this.request.splitTimes ? { time_split: splitTimes(this.timeSamples) } : {}),
    };
  }
}
