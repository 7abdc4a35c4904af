/**
 * What the soak watches inside the edge's workerd besides its RSS: the used JS heap (every sample, no
 * GC), the JS heap after a forced full GC at fixed points of the run (what the app really retains),
 * anonymous vs file-backed resident memory, open descriptors and sockets, and the client connections
 * established on the edge's port; optionally two heap snapshots (at 30% and 90% of the run) and the
 * constructors that grew between them.
 */

import { type CdpHeap, connectCdpHeap } from "./cdp-heap.ts";
import { type HeapGrowth, type HeapSummary, heapGrowth } from "./heap-summary.ts";
import { descriptorCounts, establishedOnPort, residentSplitMb } from "./proc-probe.ts";

/** One sample of the edge's extras. */
export interface EdgeSample {
  at_s: number;
  js_heap_used_mb?: number;
  /** What V8 has committed for the heap (used, garbage and free pages). */
  js_heap_total_mb?: number;
  anon_mb?: number;
  file_mb?: number;
  fds?: number;
  sockets?: number;
  connections?: number;
}

/** The JS heap after a forced full GC at one point of the run. */
export interface GcPoint {
  at_s: number;
  js_heap_after_gc_mb: number;
  js_heap_total_mb: number;
  rss_mb: number;
}

/** Options of {@link startEdgeProbe}. */
export interface EdgeProbeOptions {
  pid: number;
  port: number;
  /** workerd's inspector (`ws://127.0.0.1:<port>/edge`). */
  inspectorUrl: string;
  seconds: number;
  /** Full GCs at these fractions of the run (the last one may be at 1, after the load ends). */
  gcAt: number[];
  /** Takes heap snapshots at 30% and 90% of the run and diffs them. */
  snapshots: boolean;
  rssMb: (pid: number) => number;
  /**
   * Sends the edge a request: workerd serves inspector messages from the isolate's event loop, so a
   * call made while no request runs can wait for the next one. Called while an inspector call waits.
   */
  wake: () => Promise<void>;
  /** Progress lines (GC points, snapshots, inspector calls that gave up). */
  log: (line: string) => void;
}

/** An inspector call that takes longer than this is given up (a heap snapshot: `snapshotTimeoutMs`). */
const callTimeoutMs = 10_000;
const snapshotTimeoutMs = 60_000;

/** `task`, rejected after `ms`, with `wake` called every 250 ms meanwhile. */
async function bounded<T>(task: Promise<T>, ms: number, wake: () => Promise<void>): Promise<T> {
  const poke = setInterval(() => void wake().catch(() => undefined), 250);
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      task,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`inspector gave no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearInterval(poke);
    clearTimeout(timer);
  }
}

const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10;

/** Connects to the edge's inspector and schedules the GC points (and snapshots) from now. */
export async function startEdgeProbe(options: EdgeProbeOptions) {
  const heap: CdpHeap = await connectCdpHeap(options.inspectorUrl);
  const started = Date.now();
  const samples: EdgeSample[] = [];
  const gcPoints: GcPoint[] = [];
  const snapshots: { at_s: number; summary: HeapSummary }[] = [];
  // One inspector call at a time: a snapshot or GC must not interleave with the usage reads.
  let queue: Promise<unknown> = Promise.resolve();
  const serial = <T>(task: () => Promise<T>, ms = callTimeoutMs): Promise<T> => {
    const run = () => bounded(task(), ms, options.wake);
    const next = queue.then(run, run);
    queue = next.catch(() => undefined);
    return next;
  };
  const atS = () => Math.round((Date.now() - started) / 1000);

  const gcAt = async () => {
    const usage = await serial(() => heap.usageAfterGc());
    const point = {
      at_s: atS(),
      js_heap_after_gc_mb: mb(usage.usedBytes),
      js_heap_total_mb: mb(usage.totalBytes),
      rss_mb: options.rssMb(options.pid),
    };
    gcPoints.push(point);
    options.log(`edge after a full GC: ${JSON.stringify(point)}`);
  };
  const report = (what: string) => (error: unknown) =>
    options.log(`${what} failed: ${error instanceof Error ? error.message : String(error)}`);
  const timers = options.gcAt
    .filter((f) => f < 1)
    .map((f) => setTimeout(() => void gcAt().catch(report("GC point")), f * options.seconds * 1000));
  if (options.snapshots) {
    for (const f of [0.3, 0.9]) {
      const take = async () => {
        const summary = await serial(() => heap.snapshot(), snapshotTimeoutMs);
        snapshots.push({ at_s: atS(), summary });
        options.log(`edge heap snapshot at ${atS()} s: ${summary.nodes} nodes, ${mb(summary.selfBytes)} MB`);
      };
      timers.push(setTimeout(() => void take().catch(report("heap snapshot")), f * options.seconds * 1000));
    }
  }

  return {
    /** Reads the extras now (the JS heap read lands in the sample when the inspector answers). */
    sample(): void {
      const sample: EdgeSample = { at_s: atS() };
      try {
        Object.assign(sample, residentSplitMb(options.pid), descriptorCounts(options.pid));
        sample.connections = establishedOnPort(options.port);
      } catch {
        // workerd restarted between samples; the RSS series shows it
      }
      samples.push(sample);
      void serial(() => heap.usage())
        .then((usage) => {
          sample.js_heap_used_mb = mb(usage.usedBytes);
          sample.js_heap_total_mb = mb(usage.totalBytes);
        })
        .catch(report("heap usage"))
        .finally(() => options.log(`edge at ${sample.at_s} s: ${JSON.stringify(sample)}`));
    },
    /** Runs the last GC point (if asked for at 1) and gives everything measured; `beforeGc` runs first. */
    async stop(beforeGc?: () => void): Promise<{
      samples: EdgeSample[];
      gc_points: GcPoint[];
      heap_growth?: { from_s: number; to_s: number; top: HeapGrowth[] };
    }> {
      for (const timer of timers) clearTimeout(timer);
      await queue;
      beforeGc?.();
      if (options.gcAt.includes(1)) await gcAt().catch(report("GC point"));
      await queue;
      heap.close();
      const [first, last] = snapshots;
      return {
        samples,
        gc_points: gcPoints,
        ...(first && last
          ? {
              heap_growth: {
                from_s: first.at_s,
                to_s: last.at_s,
                top: heapGrowth(first.summary, last.summary, 25),
              },
            }
          : {}),
      };
    },
  };
}
