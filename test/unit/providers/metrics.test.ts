import { describe, expect, it } from "vitest";
import { parseVllmLoad } from "../../../workers/providers/openai-compatible/metrics.ts";

describe("vLLM /metrics parsing", () => {
  it("reads the gauges of the served model only", () => {
    const text = [
      "# HELP vllm:num_requests_waiting Number of requests waiting.",
      "# TYPE vllm:num_requests_waiting gauge",
      'vllm:num_requests_waiting{model_name="a"} 4',
      'vllm:num_requests_waiting{model_name="b"} 9',
      'vllm:num_requests_running{model_name="a"} 2',
      'vllm:kv_cache_usage_perc{engine="0",model_name="a"} 0.25',
    ].join("\n");
    expect(parseVllmLoad(text, "a")).toEqual({ waiting: 4, running: 2, kvCacheUsage: 0.25 });
    expect(parseVllmLoad(text, "b")).toEqual({ waiting: 9, running: 0, kvCacheUsage: 0 });
  });

  it("accepts the older gpu_cache_usage_perc name and unlabelled series; nothing vLLM-shaped is undefined", () => {
    expect(parseVllmLoad("vllm:gpu_cache_usage_perc 0.5\nvllm:num_requests_waiting 1", "x")).toEqual({
      waiting: 1,
      running: 0,
      kvCacheUsage: 0.5,
    });
    expect(parseVllmLoad("process_cpu_seconds_total 3", "x")).toBeUndefined();
  });
});
