/** What the load generators (closed-loop.ts, open-loop.ts) share: the request, the tally, the result. */

import { KeepAliveClient } from "./keepalive-client.ts";
import { splitTimes, type TimeSample, type TimeSplit, timingOf } from "./time-split.ts";

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
  /** Called for each request that got no answer, with its number and the reason (the error). */
  onFailure?: (i: number, reason: string) => void;
  /** Called for each answer, with its number, status and a reader of its headers. */
  onAnswer?: (i: number, status: number, header: (name: string) => string | undefined) => void;
  /**
   * Sends through a keep-alive client that drops connections idle this long (below the server's
   * keep-alive timeout; keepalive-client.ts) instead of `fetch`, whose pool races the server's close.
   */
  keepAliveIdleMs?: number;
}

export interface LoadResult {
  p50_ms: number;
  p99_ms: number;
  /** Answers per second over the run (any status). */
  rps: number;
  /** 2xx answers per second over the run (a refusal is not throughput). */
  ok_rps: number;
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

  private readonly client: KeepAliveClient | undefined;

  constructor(private readonly request: LoadRequest) {
    this.client = request.keepAliveIdleMs ? new KeepAliveClient(request.keepAliveIdleMs) : undefined;
  }

  /** One request's status and the value of `countHeader`, through fetch or the keep-alive client. */
  private async exchange(
    i: number,
  ): Promise<{ status: number; header: (name: string) => string | undefined }> {
    const init = {
      url: this.request.url,
      method: this.request.method ?? "POST",
      headers: this.request.headers,
      body: this.request.body(i),
      timeoutMs: this.request.timeoutMs ?? 10_000,
    };
    if (this.client) {
      const answer = await this.client.send(init);
      const header = (name: string) => {
        const value = answer.headers[name.toLowerCase()];
        return Array.isArray(value) ? value.join(",") : value;
      };
      return { status: answer.status, header };
    }
    const response = await fetch(init.url, {
      method: init.method,
      headers: init.headers,
      body: init.body,
      signal: AbortSignal.timeout(init.timeoutMs),
    });
    await response.arrayBuffer();
    return { status: response.status, header: (name: string) => response.headers.get(name) ?? undefined };
  }

  async send(i: number, since: number): Promise<void> {
    try {
      const { status, header } = await this.exchange(i);
      this.request.onAnswer?.(i, status, header);
      const ok = status >= 200 && status <= 299;
      if (!ok) this.non2xx++;
      this.countClass(`${Math.floor(status / 100)}xx`);
      if (this.request.countHeader) {
        const value = header(this.request.countHeader) ?? "(none)";
        this.headerCounts[value] = (this.headerCounts[value] ?? 0) + 1;
      }
      const latency = performance.now() - since;
      this.latencies.push(latency);
      if (ok) {
        this.okLatencies.push(latency);
        if (this.request.splitTimes) this.sampleTimes(header("server-timing"), latency);
      }
      this.statusCounts[status] = (this.statusCounts[status] ?? 0) + 1;
    } catch (error: unknown) {
      this.non2xx++;
      this.countClass("failed");
      const reason = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 120) : String(error);
      this.failures[reason] = (this.failures[reason] ?? 0) + 1;
      this.request.onFailure?.(i, reason);
    }
  }

  private sampleTimes(timing: string | undefined, total: number): void {
    const edge = timingOf(timing ?? null, "edge");
    const pool = timingOf(timing ?? null, "pool");
    if (edge !== undefined && pool !== undefined) this.timeSamples.push({ total, edge, pool });
  }

  /** Closes the keep-alive client's connections (nothing to do with fetch). */
  close(): void {
    this.client?.close();
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
      ok_rps: Math.round(this.okLatencies.length / elapsedSeconds),
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
