import { describe, expect, it } from "vitest";
import { EdgeTraceExporter, otlpTraceRequest } from "../../../edge/lib/tracing/otlp-json.ts";
import { RequestTrace, SpanKind } from "../../../edge/lib/tracing/span.ts";

const client = { traceId: "0af7651916cd43dd8448eb211c80319c", spanId: "b7ad6b7169203331" };

describe("the edge's request trace", () => {
  it("continues a sampled client trace: root under the client's span, children under the root", async () => {
    const trace = new RequestTrace({
      name: "POST /v1/chat/completions",
      parent: { ...client, sampled: true },
      ratio: 0,
    });
    expect(trace.traceId).toBe(client.traceId);
    expect(trace.sampled).toBe(true);
    const child = trace.startSpan("tiergate.forward", { kind: SpanKind.client, attributes: { a: 1 } });
    expect(trace.traceparentOf(child)).toBe(`00-${client.traceId}-${child.spanId}-01`);
    child.setAttribute("b", "x").end();
    trace.root.end();
    const spans = trace.takeEnded();
    expect(spans.map((s) => s.name)).toEqual(["tiergate.forward", "POST /v1/chat/completions"]);
    const [forward, root] = spans;
    expect(root?.parentSpanId).toBe(client.spanId);
    expect(root?.kind).toBe(SpanKind.server);
    expect(forward?.parentSpanId).toBe(trace.root.spanId);
    expect(forward?.attributes).toEqual({ a: 1, b: "x" });
    expect(BigInt(forward?.endNs ?? "0")).toBeGreaterThanOrEqual(BigInt(forward?.startNs ?? "1"));
    expect(trace.takeEnded()).toEqual([]);
  });

  it("records nothing for an unsampled client trace but passes its trace id on with flag 00", () => {
    const trace = new RequestTrace({ name: "r", parent: { ...client, sampled: false }, ratio: 1 });
    const span = trace.startSpan("x");
    expect(span.recording).toBe(false);
    expect(trace.traceparentOf(span)).toMatch(new RegExp(`^00-${client.traceId}-[0-9a-f]{16}-00$`));
    span.end();
    trace.root.end();
    expect(trace.takeEnded()).toEqual([]);
  });

  it("samples new traces by the ratio (0 never, 1 always)", () => {
    expect(new RequestTrace({ name: "r", parent: undefined, ratio: 0 }).sampled).toBe(false);
    const always = new RequestTrace({ name: "r", parent: undefined, ratio: 1 });
    expect(always.sampled).toBe(true);
    expect(always.traceId).toMatch(/^[0-9a-f]{32}$/);
  });

  it("marks a span failed when its work throws, rethrows, and still ends it", async () => {
    const trace = new RequestTrace({ name: "r", parent: undefined, ratio: 1 });
    await expect(
      trace.inSpan("tiergate.key.verify", {}, async () => {
        throw new TypeError("boom");
      }),
    ).rejects.toThrow("boom");
    const [span] = trace.takeEnded();
    expect(span?.status).toEqual({ code: 2, message: "boom" });
    expect(span?.attributes["error.type"]).toBe("TypeError");
  });
});

describe("OTLP/HTTP JSON export", () => {
  function ended(): ReturnType<RequestTrace["takeEnded"]> {
    const trace = new RequestTrace({ name: "root", parent: undefined, ratio: 1 });
    trace.startSpan("child", { attributes: { s: "v", i: 3, d: 0.5, b: true, list: ["a", "b"] } }).end();
    trace.root.end();
    return trace.takeEnded();
  }

  it("encodes ids as hex, times as decimal strings and typed attribute values", () => {
    const spans = ended();
    const body = otlpTraceRequest("tiergate-edge", spans) as {
      resourceSpans: { resource: unknown; scopeSpans: { spans: Record<string, unknown>[] }[] }[];
    };
    const encoded = body.resourceSpans[0]?.scopeSpans[0]?.spans ?? [];
    expect(encoded).toHaveLength(2);
    const child = encoded.find((s) => s.name === "child");
    expect(child?.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(child?.parentSpanId).toBe(spans[1]?.spanId);
    expect(child?.startTimeUnixNano).toMatch(/^\d{19}$/);
    expect(child?.attributes).toEqual([
      { key: "s", value: { stringValue: "v" } },
      { key: "i", value: { intValue: "3" } },
      { key: "d", value: { doubleValue: 0.5 } },
      { key: "b", value: { boolValue: true } },
      { key: "list", value: { arrayValue: { values: [{ stringValue: "a" }, { stringValue: "b" }] } } },
    ]);
    expect(encoded.find((s) => s.name === "root")?.parentSpanId).toBeUndefined();
    expect(JSON.stringify(body.resourceSpans[0]?.resource)).toContain("tiergate-edge");
  });

  it("batches concurrent requests' spans into one POST with the configured headers, started by the first", async () => {
    const posts: { url: string; init: RequestInit }[] = [];
    const exporter = new EdgeTraceExporter(
      {
        url: "https://collector.example/v1/traces",
        headers: { "x-api-key": "k" },
        ratio: 1,
        serviceName: "e",
      },
      async (url, init) => {
        posts.push({ url, init });
        return new Response(null, { status: 200 });
      },
    );
    const first = exporter.export(ended());
    const second = exporter.export(ended());
    expect(first).toBeInstanceOf(Promise);
    expect(second).toBeNull();
    await first;
    expect(posts).toHaveLength(1);
    expect(posts[0]?.url).toBe("https://collector.example/v1/traces");
    expect(posts[0]?.init.headers).toEqual({ "x-api-key": "k", "content-type": "application/json" });
    const sent = JSON.parse(String(posts[0]?.init.body)) as {
      resourceSpans: { scopeSpans: { spans: unknown[] }[] }[];
    };
    expect(sent.resourceSpans[0]?.scopeSpans[0]?.spans).toHaveLength(4);
  });

  it("rejects the send (for the background logger) when the collector refuses it", async () => {
    const exporter = new EdgeTraceExporter(
      { url: "https://collector.example/v1/traces", headers: {}, ratio: 1, serviceName: "e" },
      async () => new Response("no", { status: 401 }),
    );
    await expect(exporter.export(ended())).rejects.toThrow("401");
  });
});
