import { context, SpanKind, trace } from "@opentelemetry/api";
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  ParentBasedSampler,
  SimpleSpanProcessor,
  TraceIdRatioBasedSampler,
} from "@opentelemetry/sdk-trace-base";
import { Hono } from "hono";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";
import type { EndpointSpec } from "../../../workers/providers/types.ts";
import { AsyncLocalContextManager } from "../../../workers/tracing/context-manager.ts";
import { chatResult, tracedModelCall } from "../../../workers/tracing/genai.ts";
import { traceSignedCall } from "../../../workers/tracing/middleware.ts";
import { inSpan, poolTracer } from "../../../workers/tracing/spans.ts";

const exporter = new InMemorySpanExporter();
const provider = new BasicTracerProvider({
  sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(1) }),
  spanProcessors: [new SimpleSpanProcessor(exporter)],
});

beforeAll(() => {
  context.setGlobalContextManager(new AsyncLocalContextManager());
  trace.setGlobalTracerProvider(provider);
});
afterAll(async () => {
  await provider.shutdown();
  trace.disable();
  context.disable();
});
beforeEach(() => exporter.reset());

const endpoint: EndpointSpec = {
  id: "small-0",
  provider: "openai-compatible",
  baseURL: "http://127.0.0.1:8000/v1",
  apiKey: "k",
  model: "tiny-chat",
  weight: 1,
  metricsURL: "",
  completions: false,
} as EndpointSpec;

function app(traceparent: string | undefined) {
  const hono = new Hono<PoolHonoEnv>();
  hono.use(async (c, next) => {
    c.set("requestId", "req_1");
    c.set("caller", {
      kind: "traffic",
      credential: "edge",
      tenant: "t1",
      keyId: "k1",
      allowedModels: null,
      deadline: undefined,
      traceparent,
    });
    c.set("services", { config: { POOL_REGION: "eu" } } as unknown as PoolHonoEnv["Variables"]["services"]);
    await next();
  });
  hono.use(traceSignedCall);
  hono.post("/internal/v1/chat/completions", async (c) => {
    await inSpan("tiergate.route", {}, async () => undefined);
    return c.json({ ok: true });
  });
  return hono;
}

describe("pool spans", () => {
  it("makes no span for work outside a recorded request", async () => {
    await inSpan("SELECT clickhouse", {}, async () => undefined);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it("nests a model call under the active span with the GenAI attributes", async () => {
    await poolTracer().startActiveSpan("request", async (root) => {
      await tracedModelCall(
        {
          operation: "chat",
          endpoint,
          request: { model: "auto", messages: [], max_tokens: 8 },
          result: chatResult,
        },
        async () => ({
          id: "cmpl-1",
          object: "chat.completion" as const,
          created: 0,
          model: "tiny-chat-2025",
          choices: [
            {
              index: 0,
              message: { role: "assistant" as const, content: "hi" },
              finish_reason: "stop" as const,
            },
          ],
          usage: { prompt_tokens: 11, completion_tokens: 3, total_tokens: 14 },
        }),
      );
      root.end();
    });
    const spans = exporter.getFinishedSpans();
    const call = spans.find((s) => s.name === "chat tiny-chat");
    const root = spans.find((s) => s.name === "request");
    expect(call?.kind).toBe(SpanKind.CLIENT);
    expect(call?.parentSpanContext?.spanId).toBe(root?.spanContext().spanId);
    expect(call?.attributes).toMatchObject({
      "gen_ai.operation.name": "chat",
      "gen_ai.provider.name": "openai-compatible",
      "gen_ai.request.model": "tiny-chat",
      "gen_ai.request.max_tokens": 8,
      "gen_ai.response.model": "tiny-chat-2025",
      "gen_ai.response.id": "cmpl-1",
      "gen_ai.usage.input_tokens": 11,
      "gen_ai.usage.output_tokens": 3,
      "gen_ai.response.finish_reasons": ["stop"],
      "server.address": "127.0.0.1:8000",
    });
  });

  it("parents a signed call's span on the edge's span from the signed traceparent", async () => {
    const traceId = "0af7651916cd43dd8448eb211c80319c";
    const response = await app(`00-${traceId}-b7ad6b7169203331-01`).request("/internal/v1/chat/completions", {
      method: "POST",
    });
    expect(response.status).toBe(200);
    const spans = exporter.getFinishedSpans();
    const server = spans.find((s) => s.name === "POST /internal/v1/chat/completions");
    expect(server?.kind).toBe(SpanKind.SERVER);
    expect(server?.spanContext().traceId).toBe(traceId);
    expect(server?.parentSpanContext?.spanId).toBe("b7ad6b7169203331");
    expect(server?.attributes).toMatchObject({
      "tiergate.tenant": "t1",
      "tiergate.region": "eu",
      "http.response.status_code": 200,
    });
    const route = spans.find((s) => s.name === "tiergate.route");
    expect(route?.parentSpanContext?.spanId).toBe(server?.spanContext().spanId);
  });

  it("records nothing when the edge decided not to sample (flag 00)", async () => {
    const response = await app("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-00").request(
      "/internal/v1/chat/completions",
      { method: "POST" },
    );
    expect(response.status).toBe(200);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});
