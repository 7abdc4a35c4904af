import { describe, expect, it } from "vitest";
import { ModelServerMetrics } from "../../stack/model-server/metrics.ts";

describe("ModelServerMetrics", () => {
  it("renders vLLM's gauges, counters and latency histogram per model name", () => {
    const metrics = new ModelServerMetrics(["small", "embed"]);
    metrics.recordRequest("small", {
      promptTokens: 10,
      generationTokens: 4,
      finishReason: "length",
      seconds: 0.7,
    });
    metrics.recordRequest("small", {
      promptTokens: 5,
      generationTokens: 2,
      finishReason: "stop",
      seconds: 3,
    });
    metrics.recordRequest("unknown", {
      promptTokens: 1,
      generationTokens: 1,
      finishReason: "stop",
      seconds: 1,
    });
    const text = metrics.render((model) =>
      model === "small"
        ? { running: 1, waiting: 3, cacheUsage: 0.25 }
        : { running: 0, waiting: 0, cacheUsage: 0 },
    );
    const lines = text.trimEnd().split("\n");
    expect(lines).toContain("# TYPE vllm:num_requests_running gauge");
    expect(lines).toContain('vllm:num_requests_running{model_name="small"} 1');
    expect(lines).toContain('vllm:num_requests_waiting{model_name="small"} 3');
    expect(lines).toContain('vllm:num_requests_waiting{model_name="embed"} 0');
    expect(lines).toContain('vllm:gpu_cache_usage_perc{model_name="small"} 0.25');
    expect(lines).toContain('vllm:prompt_tokens_total{model_name="small"} 15');
    expect(lines).toContain('vllm:generation_tokens_total{model_name="small"} 6');
    expect(lines).toContain('vllm:request_success_total{model_name="small",finished_reason="length"} 1');
    expect(lines).toContain('vllm:e2e_request_latency_seconds_bucket{model_name="small",le="0.8"} 1');
    expect(lines).toContain('vllm:e2e_request_latency_seconds_bucket{model_name="small",le="5"} 2');
    expect(lines).toContain('vllm:e2e_request_latency_seconds_bucket{model_name="small",le="+Inf"} 2');
    expect(lines).toContain('vllm:e2e_request_latency_seconds_count{model_name="small"} 2');
    expect(text).not.toContain("unknown");
    for (const line of lines.filter((l) => !l.startsWith("#"))) {
      expect(line).toMatch(/^vllm:[a-z0-9_]+\{model_name="[a-z]+"(,[a-z_]+="[^"]+")?\} [0-9.]+$/);
    }
  });
});
