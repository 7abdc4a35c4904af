/** The load signals the balancer reads from vLLM's Prometheus endpoint, for one served model. */
export interface EndpointLoad {
  waiting: number;
  running: number;
  /** 0..1 KV-cache usage (`vllm:kv_cache_usage_perc`, older vLLM `vllm:gpu_cache_usage_perc`). */
  kvCacheUsage: number;
}

const metricLine = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{([^}]*)\})?\s+(\S+)/;
const labelPair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/**
 * Reads the vLLM gauges for `model` from Prometheus text. Series with a `model_name` label count only
 * when it matches; unlabelled series count for any model. Undefined when no gauge is present at all.
 */
export function parseVllmLoad(text: string, model: string): EndpointLoad | undefined {
  const values: Record<string, number> = {};
  for (const line of text.split("\n")) {
    if (line.startsWith("#")) continue;
    const match = metricLine.exec(line);
    if (!match) continue;
    const [, name = "", labels = "", raw = ""] = match;
    const labelMap = new Map([...labels.matchAll(labelPair)].map((m) => [m[1], m[2]]));
    const labelled = labelMap.get("model_name");
    if (labelled !== undefined && labelled !== model) continue;
    const value = Number(raw);
    if (Number.isFinite(value)) values[name] = (values[name] ?? 0) + value;
  }
  const waiting = values["vllm:num_requests_waiting"];
  const running = values["vllm:num_requests_running"];
  const kv = values["vllm:kv_cache_usage_perc"] ?? values["vllm:gpu_cache_usage_perc"];
  if (waiting === undefined && running === undefined && kv === undefined) return undefined;
  return { waiting: waiting ?? 0, running: running ?? 0, kvCacheUsage: kv ?? 0 };
}

/** Fetches and parses an endpoint's `/metrics`; undefined when unreachable or not vLLM-shaped. */
export async function fetchVllmLoad(
  metricsURL: string,
  model: string,
  timeoutMs: number,
): Promise<EndpointLoad | undefined> {
  try {
    const response = await fetch(metricsURL, { signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok) return undefined;
    return parseVllmLoad(await response.text(), model);
  } catch {
    return undefined;
  }
}
