import { rmSync } from "node:fs";
import { join } from "node:path";
import {
  AggregatorRegistry,
  type MetricObjectWithValues,
  type MetricValue,
  type Registry,
} from "prom-client";

/** One worker's metrics as prom-client's JSON (`Registry.getMetricsAsJSON`). */
export type WorkerMetricsJson = MetricObjectWithValues<MetricValue<string>>[];

/** The socket a pool worker serves its own metrics on, inside the supervisor's metrics directory. */
export function workerMetricsSocket(dir: string, workerIndex: number): string {
  return join(dir, `worker-${workerIndex}.sock`);
}

/** Where a worker finds its siblings' metrics. */
export interface PoolSiblings {
  /** This worker's index (1-based), or undefined when it runs alone. */
  ownIndex?: number;
  /** Sockets of every worker of the pool (this one's included, skipped by index). */
  siblings: { index: number; socket: string }[];
  /** How long a sibling may take to answer; a slower or dead one is left out of that scrape. */
  timeoutMs: number;
}

/** Options of {@link PoolMetricsGatherer}. */
export interface PoolMetricsGathererOptions extends PoolSiblings {
  /** This worker's registry (read in process, never over a socket). */
  own: Registry;
}

/** The sibling sockets of a supervised worker (undefined for a worker started on its own). */
export function poolSiblings(config: {
  POOL_WORKER_INDEX?: number;
  POOL_METRICS_SOCKET_DIR?: string;
  POOL_PROCESSES: number;
  POOL_METRICS_SIBLING_TIMEOUT_MS: number;
}): PoolSiblings | undefined {
  const dir = config.POOL_METRICS_SOCKET_DIR;
  if (dir === undefined || config.POOL_WORKER_INDEX === undefined) return undefined;
  return {
    ownIndex: config.POOL_WORKER_INDEX,
    siblings: Array.from({ length: config.POOL_PROCESSES }, (_, i) => ({
      index: i + 1,
      socket: workerMetricsSocket(dir, i + 1),
    })),
    timeoutMs: config.POOL_METRICS_SIBLING_TIMEOUT_MS,
  };
}

/** What one gather produced: the exposition text and how many workers it covers. */
export interface GatheredMetrics {
  text: string;
  workersScraped: number;
  workersExpected: number;
}

/**
 * The whole pool's metrics from any one worker. Workers share the HTTP port (SO_REUSEPORT), so a scrape
 * lands on one of them: that worker reads its siblings' registries over their private Unix sockets and
 * merges them with prom-client's cluster aggregator. Every series keeps its `worker` label, so one
 * scrape holds every worker's series and `sum without (worker)` gives the pool.
 */
export class PoolMetricsGatherer {
  constructor(private readonly options: PoolMetricsGathererOptions) {}

  /** Every worker's metrics as one Prometheus exposition, plus a coverage gauge. */
  async gather(): Promise<GatheredMetrics> {
    const others = this.options.siblings.filter((s) => s.index !== this.options.ownIndex);
    const [own, ...rest] = await Promise.all([
      this.options.own.getMetricsAsJSON() as Promise<WorkerMetricsJson>,
      ...others.map((s) => this.fetchSibling(s.socket)),
    ]);
    const answered = rest.filter((r): r is WorkerMetricsJson => r !== undefined);
    const merged = AggregatorRegistry.aggregate([own, ...answered]);
    const expected = others.length + 1;
    const scraped = answered.length + 1;
    const coverage = [
      "# HELP tiergate_pool_workers_scraped Pool workers whose metrics this scrape includes.",
      "# TYPE tiergate_pool_workers_scraped gauge",
      `tiergate_pool_workers_scraped ${scraped}`,
      "# HELP tiergate_pool_workers_expected Pool workers the supervisor runs.",
      "# TYPE tiergate_pool_workers_expected gauge",
      `tiergate_pool_workers_expected ${expected}`,
      "",
    ].join("\n");
    return { text: (await merged.metrics()) + coverage, workersScraped: scraped, workersExpected: expected };
  }

  /** A sibling's JSON, or undefined when it is restarting, slow or answers garbage. */
  private async fetchSibling(socket: string): Promise<WorkerMetricsJson | undefined> {
    try {
      const response = await fetch("http://pool-worker/metrics.json", {
        unix: socket,
        signal: AbortSignal.timeout(this.options.timeoutMs),
      } as RequestInit);
      if (!response.ok) return undefined;
      const body: unknown = await response.json();
      return Array.isArray(body) ? (body as WorkerMetricsJson) : undefined;
    } catch {
      return undefined;
    }
  }
}

/** Options of {@link serveWorkerMetrics}. */
export interface WorkerMetricsServerOptions {
  registry: Registry;
  socket: string;
}

/** Serves this worker's registry as JSON on its private Unix socket; returns a stop function. */
export function serveWorkerMetrics(options: WorkerMetricsServerOptions): () => void {
  // A worker restarted after a crash finds its predecessor's socket file still there.
  rmSync(options.socket, { force: true });
  const server = Bun.serve({
    unix: options.socket,
    async fetch() {
      return Response.json(await options.registry.getMetricsAsJSON());
    },
  });
  return () => void server.stop(true);
}
