import { context, propagation, trace } from "@opentelemetry/api";
import { W3CTraceContextPropagator } from "@opentelemetry/core";
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { resourceFromAttributes } from "@opentelemetry/resources";
import {
  BasicTracerProvider,
  BatchSpanProcessor,
  ParentBasedSampler,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { ATTR_SERVICE_NAME } from "@opentelemetry/semantic-conventions";
import type { TracingConfig } from "../../shared/tracing.ts";
import { AsyncLocalContextManager } from "./context-manager.ts";

/** What a pool process keeps of its tracing: flushes and stops the exporter at shutdown. */
export interface PoolTracing {
  /** Exports what is still queued and stops; never throws. */
  shutdown(): Promise<void>;
}

const off: PoolTracing = { shutdown: async () => undefined };

/**
 * Registers the process-wide tracer provider: parent-based sampling (the edge's decision, signed into
 * the call, wins; a trace that starts here is kept with probability `ratio`), spans batched and sent
 * over OTLP/HTTP (JSON) in the background. Null config: nothing is registered and every span helper
 * is the API's no-op.
 */
export function startPoolTracing(config: TracingConfig | null, role: string): PoolTracing {
  if (!config) return off;
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({
      [ATTR_SERVICE_NAME]: config.serviceName,
      "service.namespace": "tiergate",
      "tiergate.role": role,
      "process.pid": process.pid,
    }),
    sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ratio) }),
    spanProcessors: [
      new BatchSpanProcessor(
        new OTLPTraceExporter({ url: config.url, headers: config.headers, timeoutMillis: 5_000 }),
        { scheduledDelayMillis: 1_000, maxQueueSize: 4_096, maxExportBatchSize: 512 },
      ),
    ],
  });
  context.setGlobalContextManager(new AsyncLocalContextManager());
  propagation.setGlobalPropagator(new W3CTraceContextPropagator());
  trace.setGlobalTracerProvider(provider);
  return {
    async shutdown() {
      await provider.shutdown().catch(() => undefined);
      trace.disable();
      context.disable();
      propagation.disable();
    },
  };
}
