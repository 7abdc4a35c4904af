/** Upper bounds (seconds) of the end-to-end latency histogram, as in vLLM's `e2e_request_latency_seconds`. */
const latencyBuckets = [0.3, 0.5, 0.8, 1, 1.5, 2, 2.5, 5, 10, 15, 20, 30, 60];

interface ModelCounters {
  promptTokens: number;
  generationTokens: number;
  finished: Map<string, number>;
  latencyBucketCounts: number[];
  latencySum: number;
  latencyCount: number;
}

/** Live gauges per model name, read at scrape time. */
export interface ModelGauges {
  running: number;
  waiting: number;
  /** 0..1: share of the context window in use (vLLM reports its KV-cache usage here). */
  cacheUsage: number;
}

/**
 * Prometheus metrics under vLLM's names, so the router reads the same signals from this server as from
 * vLLM: every series carries `model_name`.
 */
export class ModelServerMetrics {
  private readonly counters = new Map<string, ModelCounters>();
  /** Requests per API path (tests prove which upstream path a gateway called). */
  private readonly paths = new Map<string, number>();

  constructor(private readonly modelNames: readonly string[]) {
    for (const name of modelNames) {
      this.counters.set(name, {
        promptTokens: 0,
        generationTokens: 0,
        finished: new Map(),
        latencyBucketCounts: latencyBuckets.map(() => 0),
        latencySum: 0,
        latencyCount: 0,
      });
    }
  }

  /** Records one finished request: token counts, why it finished and how long it took end to end. */
  recordRequest(
    model: string,
    sample: { promptTokens: number; generationTokens: number; finishReason: string; seconds: number },
  ): void {
    const c = this.counters.get(model);
    if (!c) return;
    c.promptTokens += sample.promptTokens;
    c.generationTokens += sample.generationTokens;
    c.finished.set(sample.finishReason, (c.finished.get(sample.finishReason) ?? 0) + 1);
    latencyBuckets.forEach((bound, i) => {
      if (sample.seconds <= bound) c.latencyBucketCounts[i] = (c.latencyBucketCounts[i] ?? 0) + 1;
    });
    c.latencySum += sample.seconds;
    c.latencyCount += 1;
  }

  /** Counts one request to an API path. */
  recordPath(path: string): void {
    this.paths.set(path, (this.paths.get(path) ?? 0) + 1);
  }

  /** The Prometheus text exposition (format 0.0.4). */
  render(gauges: (model: string) => ModelGauges): string {
    const lines: string[] = [];
    const family = (name: string, type: string, help: string, series: (model: string) => string[]) => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const model of this.modelNames) lines.push(...series(model));
    };
    const label = (model: string, extra = "") => `{model_name="${model}"${extra}}`;
    const counters = (model: string): ModelCounters => {
      const c = this.counters.get(model);
      if (!c) throw new Error(`no counters for ${model}`);
      return c;
    };
    family("vllm:num_requests_running", "gauge", "Number of requests running.", (m) => [
      `vllm:num_requests_running${label(m)} ${gauges(m).running}`,
    ]);
    family("vllm:num_requests_waiting", "gauge", "Number of requests waiting to be processed.", (m) => [
      `vllm:num_requests_waiting${label(m)} ${gauges(m).waiting}`,
    ]);
    family(
      "vllm:gpu_cache_usage_perc",
      "gauge",
      "Cache usage, 1 means 100 percent (CPU context here).",
      (m) => [`vllm:gpu_cache_usage_perc${label(m)} ${gauges(m).cacheUsage}`],
    );
    family("vllm:kv_cache_usage_perc", "gauge", "KV-cache usage, 1 means 100 percent.", (m) => [
      `vllm:kv_cache_usage_perc${label(m)} ${gauges(m).cacheUsage}`,
    ]);
    family("vllm:prompt_tokens_total", "counter", "Number of prefill tokens processed.", (m) => [
      `vllm:prompt_tokens_total${label(m)} ${counters(m).promptTokens}`,
    ]);
    family("vllm:generation_tokens_total", "counter", "Number of generation tokens processed.", (m) => [
      `vllm:generation_tokens_total${label(m)} ${counters(m).generationTokens}`,
    ]);
    family("vllm:request_success_total", "counter", "Count of successfully processed requests.", (m) =>
      [...counters(m).finished].map(
        ([reason, n]) => `vllm:request_success_total${label(m, `,finished_reason="${reason}"`)} ${n}`,
      ),
    );
    family("vllm:e2e_request_latency_seconds", "histogram", "End to end request latency in seconds.", (m) => {
      const c = counters(m);
      return [
        ...latencyBuckets.map(
          (bound, i) =>
            `vllm:e2e_request_latency_seconds_bucket${label(m, `,le="${bound}"`)} ${c.latencyBucketCounts[i] ?? 0}`,
        ),
        `vllm:e2e_request_latency_seconds_bucket${label(m, ',le="+Inf"')} ${c.latencyCount}`,
        `vllm:e2e_request_latency_seconds_sum${label(m)} ${c.latencySum}`,
        `vllm:e2e_request_latency_seconds_count${label(m)} ${c.latencyCount}`,
      ];
    });
    lines.push(
      "# HELP model_server_http_requests_total Requests received per API path.",
      "# TYPE model_server_http_requests_total counter",
      ...[...this.paths].map(([path, n]) => `model_server_http_requests_total{path="${path}"} ${n}`),
    );
    return `${lines.join("\n")}\n`;
  }
}
