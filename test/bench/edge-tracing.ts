import { jaegerService, localOtlpTracesUrl } from "../stack/services/jaeger.ts";
import { serveEdgeInWorkerd } from "./workerd-serve.ts";

/** What the tracing rows need from bench:edge: its bindings, a warm-up and its `measure`. */
export interface TracingRowsOptions {
  bindings: Record<string, string>;
  headers: Record<string, string>;
  /** Request bodies: the cached question and a miss body whose `[<id>]` is replaced per request. */
  hitBody: string;
  missBody: string;
  measure(
    name: string,
    options: { url: string; headers: Record<string, string>; body: string; idReplacement?: boolean },
  ): Promise<void>;
}

/** Sampling ratios measured: every request traced, and one in a hundred. */
const ratios = ["1", "0.01"] as const;
const firstPort = 8793;

async function warm(url: string, headers: Record<string, string>, body: string): Promise<void> {
  for (let i = 0; i < 50; i++) {
    const response = await fetch(url, { method: "POST", headers, body });
    const status = response.headers.get("x-cache");
    await response.arrayBuffer();
    if (status === "HIT") return;
    await new Promise((r) => setTimeout(r, 100));
  }
}

/**
 * Rows `hit-trace-<ratio>` and `miss-trace-<ratio>`: the same edge (workerd serve) with spans exported
 * to the stack's Jaeger over OTLP/HTTP at sampling 1.0 and 0.01; compare them with `hit` and `miss`
 * (tracing off). The client sends no traceparent, so the edge's ratio decides. The bench pool does not
 * trace: these rows measure the edge's cost.
 */
export async function measureTracingRows(options: TracingRowsOptions): Promise<void> {
  await jaegerService.start();
  for (const [index, ratio] of ratios.entries()) {
    const edge = await serveEdgeInWorkerd({
      name: `bench-edge-trace-${index}`,
      port: firstPort + index,
      bindings: {
        ...options.bindings,
        OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: localOtlpTracesUrl,
        OTEL_TRACES_SAMPLER_ARG: ratio,
        OTEL_SERVICE_NAME: "tiergate-edge-bench",
      },
    });
    try {
      const url = `${edge.url}/v1/chat/completions`;
      await warm(url, options.headers, options.hitBody);
      await options.measure(`hit-trace-${ratio}`, { url, headers: options.headers, body: options.hitBody });
      await options.measure(`miss-trace-${ratio}`, {
        url,
        headers: options.headers,
        body: options.missBody,
        idReplacement: true,
      });
    } finally {
      await edge.stop();
    }
  }
}

/**
 * Tracing's cost per request: p50 and p99 at 1,000 req/s and saturation throughput of each traced row
 * against the untraced one (`hit`, `miss`).
 */
export function tracingCost(
  find: (name: string) => { p50_ms: number; p99_ms: number; rps: number } | undefined,
  round: (n: number) => number,
): Record<string, number> {
  const out: Record<string, number> = {};
  for (const kind of ["hit", "miss"]) {
    for (const ratio of ratios) {
      const off = find(kind);
      const on = find(`${kind}-trace-${ratio}`);
      const offSaturation = find(`${kind}-saturation`);
      const onSaturation = find(`${kind}-trace-${ratio}-saturation`);
      if (!off || !on) continue;
      out[`${kind}_trace_${ratio}_p50_added_ms`] = round(on.p50_ms - off.p50_ms);
      out[`${kind}_trace_${ratio}_p99_added_ms`] = round(on.p99_ms - off.p99_ms);
      if (offSaturation && onSaturation)
        out[`${kind}_trace_${ratio}_saturation_rps_ratio`] = round(
          onSaturation.rps / Math.max(1, offSaturation.rps),
        );
    }
  }
  return out;
}
