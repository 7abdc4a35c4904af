import { z } from "zod";

/**
 * Trace export settings shared by the edge and the pool, under the OpenTelemetry SDK's own variable
 * names so that a vendor's instructions apply as written. Tracing is on when an endpoint is set.
 */

/** `OTEL_EXPORTER_OTLP_HEADERS`: `name=value` pairs, comma-separated, values URL-encoded (as the spec says). */
const otlpHeaders = z
  .string()
  .default("")
  .transform((raw, ctx) => {
    const out: Record<string, string> = {};
    for (const entry of raw
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean)) {
      const at = entry.indexOf("=");
      const name = entry.slice(0, at).trim().toLowerCase();
      if (at < 1 || !/^[a-z0-9!#$%&'*+.^_`|~-]+$/.test(name)) {
        ctx.addIssue({ code: "custom", message: "want name=value pairs, comma-separated" });
        return z.NEVER;
      }
      try {
        out[name] = decodeURIComponent(entry.slice(at + 1).trim());
      } catch {
        ctx.addIssue({ code: "custom", message: `the value of ${name} is not URL-encoded` });
        return z.NEVER;
      }
    }
    return out;
  });

/** The zod shape both runtimes spread into their environment schema. */
export const tracingEnvShape = {
  /** The full OTLP/HTTP traces URL (e.g. `https://collector:4318/v1/traces`); wins over the base URL. */
  OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: z.url().optional(),
  /** The OTLP/HTTP base URL; `/v1/traces` is appended. Neither set: no traces are exported. */
  OTEL_EXPORTER_OTLP_ENDPOINT: z.url().optional(),
  /** Headers of every export (vendor API keys), `name=value,…`. Never logged. */
  OTEL_EXPORTER_OTLP_HEADERS: otlpHeaders,
  /** Share of new traces recorded, in [0, 1]; a caller's sampled flag wins (parent-based). */
  OTEL_TRACES_SAMPLER_ARG: z.coerce.number().min(0).max(1).default(1),
  /** `service.name` of the spans; each runtime has its own default. */
  OTEL_SERVICE_NAME: z.string().min(1).optional(),
  /** "true" turns tracing off whatever else is set. */
  OTEL_SDK_DISABLED: z
    .enum(["true", "false"])
    .default("false")
    .transform((v) => v === "true"),
};

/** The validated variables of `tracingEnvShape`. */
export type TracingEnv = z.infer<z.ZodObject<typeof tracingEnvShape>>;

/** Where and how traces go, once validated; null when tracing is off. */
export interface TracingConfig {
  url: string;
  headers: Record<string, string>;
  ratio: number;
  serviceName: string;
}

/** The export settings, or null when tracing is off (no endpoint, or disabled). */
export function tracingConfig(env: TracingEnv, defaultServiceName: string): TracingConfig | null {
  if (env.OTEL_SDK_DISABLED) return null;
  const url =
    env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT ??
    (env.OTEL_EXPORTER_OTLP_ENDPOINT
      ? `${env.OTEL_EXPORTER_OTLP_ENDPOINT.replace(/\/$/, "")}/v1/traces`
      : null);
  if (!url) return null;
  return {
    url,
    headers: env.OTEL_EXPORTER_OTLP_HEADERS,
    ratio: env.OTEL_TRACES_SAMPLER_ARG,
    serviceName: env.OTEL_SERVICE_NAME ?? defaultServiceName,
  };
}

/** A parsed W3C `traceparent` (version 00). */
export interface TraceParent {
  traceId: string;
  spanId: string;
  sampled: boolean;
}

const traceparentPattern = /^00-((?!0{32})[0-9a-f]{32})-((?!0{16})[0-9a-f]{16})-([0-9a-f]{2})$/;

/** Parses a `traceparent`; undefined unless it is well-formed version 00 with non-zero ids. */
export function parseTraceparent(raw: string | undefined): TraceParent | undefined {
  const match = raw?.trim().toLowerCase().match(traceparentPattern);
  if (!match) return undefined;
  const [, traceId = "", spanId = "", flags = "00"] = match;
  return { traceId, spanId, sampled: (Number.parseInt(flags, 16) & 1) === 1 };
}

/** `00-<trace id>-<span id>-<flags>`. */
export function formatTraceparent(parent: TraceParent): string {
  return `00-${parent.traceId}-${parent.spanId}-${parent.sampled ? "01" : "00"}`;
}
