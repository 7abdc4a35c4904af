import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  formatTraceparent,
  parseTraceparent,
  tracingConfig,
  tracingEnvShape,
} from "../../../shared/tracing.ts";

const schema = z.object(tracingEnvShape);
const parse = (env: Record<string, string>) => schema.safeParse(env);

describe("tracing configuration (OTEL_* variables)", () => {
  it("is off without an endpoint, and when disabled", () => {
    const none = parse({});
    expect(none.success && tracingConfig(none.data, "svc")).toBeNull();
    const disabled = parse({ OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318", OTEL_SDK_DISABLED: "true" });
    expect(disabled.success && tracingConfig(disabled.data, "svc")).toBeNull();
  });

  it("appends /v1/traces to the base URL; the traces URL wins over it", () => {
    const base = parse({ OTEL_EXPORTER_OTLP_ENDPOINT: "https://otlp.example/otlp/" });
    expect(base.success && tracingConfig(base.data, "svc")?.url).toBe("https://otlp.example/otlp/v1/traces");
    const both = parse({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://a.example",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "https://b.example/custom",
    });
    expect(both.success && tracingConfig(both.data, "svc")?.url).toBe("https://b.example/custom");
  });

  it("parses URL-encoded headers, the ratio and the service name", () => {
    const parsed = parse({
      OTEL_EXPORTER_OTLP_ENDPOINT: "https://api.honeycomb.io",
      OTEL_EXPORTER_OTLP_HEADERS: "x-honeycomb-team=abc%3D1, Authorization=Basic%20dXNlcjpwdw==",
      OTEL_TRACES_SAMPLER_ARG: "0.01",
      OTEL_SERVICE_NAME: "edge-eu",
    });
    expect(parsed.success).toBe(true);
    const config = parsed.success ? tracingConfig(parsed.data, "default") : null;
    expect(config).toEqual({
      url: "https://api.honeycomb.io/v1/traces",
      headers: { "x-honeycomb-team": "abc=1", authorization: "Basic dXNlcjpwdw==" },
      ratio: 0.01,
      serviceName: "edge-eu",
    });
  });

  it("refuses a ratio outside [0, 1], malformed headers and a relative URL", () => {
    expect(parse({ OTEL_TRACES_SAMPLER_ARG: "1.5" }).success).toBe(false);
    expect(parse({ OTEL_TRACES_SAMPLER_ARG: "-0.1" }).success).toBe(false);
    expect(parse({ OTEL_EXPORTER_OTLP_HEADERS: "no-equals-sign" }).success).toBe(false);
    expect(parse({ OTEL_EXPORTER_OTLP_HEADERS: "bad name=1" }).success).toBe(false);
    expect(parse({ OTEL_EXPORTER_OTLP_HEADERS: "a=%E0%A4%A" }).success).toBe(false);
    expect(parse({ OTEL_EXPORTER_OTLP_ENDPOINT: "/v1/traces" }).success).toBe(false);
  });
});

describe("W3C traceparent", () => {
  it("parses version 00 with the sampled flag and formats it back", () => {
    const raw = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const parsed = parseTraceparent(raw);
    expect(parsed).toEqual({
      traceId: "0af7651916cd43dd8448eb211c80319c",
      spanId: "b7ad6b7169203331",
      sampled: true,
    });
    expect(parsed && formatTraceparent(parsed)).toBe(raw);
    expect(parseTraceparent(raw.replace(/-01$/, "-00"))?.sampled).toBe(false);
  });

  it("refuses zero ids, other versions and malformed values", () => {
    expect(parseTraceparent(`00-${"0".repeat(32)}-b7ad6b7169203331-01`)).toBeUndefined();
    expect(parseTraceparent(`00-0af7651916cd43dd8448eb211c80319c-${"0".repeat(16)}-01`)).toBeUndefined();
    expect(parseTraceparent("01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")).toBeUndefined();
    expect(parseTraceparent("00-xyz-b7ad6b7169203331-01")).toBeUndefined();
    expect(parseTraceparent(undefined)).toBeUndefined();
  });
});
