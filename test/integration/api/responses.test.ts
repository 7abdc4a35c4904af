import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { type GatewayUnderTest, startGateway } from "./gateway-under-test.ts";

let gateway: GatewayUnderTest;
let client: OpenAI;

beforeAll(async () => {
  gateway = await startGateway("responses", 18_130, 8_822);
  const { key } = await createTestApiKey(`responses-${Date.now()}`);
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.edgeUrl}/v1`, maxRetries: 0, timeout: 60_000 });
});

afterAll(async () => {
  await gateway?.stop();
});

const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

const weather = {
  type: "function" as const,
  name: "get_weather",
  description: "The weather in a city",
  parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
  strict: true,
};

function upstreamBodyWith(marker: string): Record<string, unknown> {
  const body = gateway.fake.bodies.find((b) => JSON.stringify(b.messages).includes(marker));
  if (!body) throw new Error(`no upstream request carried ${marker}`);
  return body;
}

describe("POST /v1/responses against the CPU model server (translated to chat)", () => {
  it("creates a response with the official SDK, from cache the second time", async () => {
    const request = {
      model: "small",
      instructions: "Answer briefly.",
      input: unique("Say hello."),
      max_output_tokens: 12,
      temperature: 0,
    };
    const { data, response } = await client.responses.create(request).withResponse();
    expect(data.object).toBe("response");
    expect(["completed", "incomplete"]).toContain(data.status);
    expect(data.output_text.length).toBeGreaterThan(0);
    expect(data.usage?.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-cache")).toBe("MISS");
    expect(response.headers.get("x-request-id")).toBeTruthy();
    const again = await client.responses.create(request).withResponse();
    expect(again.response.headers.get("x-cache")).toBe("HIT");
    expect(again.data.output_text).toBe(data.output_text);
  });

  it("streams a response with client.responses.stream", async () => {
    const stream = client.responses.stream({
      model: "small",
      input: unique("Count to three."),
      max_output_tokens: 12,
    });
    const types = new Set<string>();
    let deltas = "";
    for await (const event of stream) {
      types.add(event.type);
      if (event.type === "response.output_text.delta") deltas += event.delta;
    }
    const final = await stream.finalResponse();
    expect([...types]).toEqual(
      expect.arrayContaining([
        "response.created",
        "response.output_item.added",
        "response.output_text.delta",
      ]),
    );
    expect(types.has("response.completed") || types.has("response.incomplete")).toBe(true);
    expect(deltas.length).toBeGreaterThan(0);
    // The SDK adds output_text only to a completed response; an answer cut by the limit is incomplete.
    const message = final.output.find((item) => item.type === "message");
    const part = message?.type === "message" ? message.content[0] : undefined;
    expect(part?.type === "output_text" && part.text).toBe(deltas);
  });
});

describe("POST /v1/responses with tools (scripted OpenAI-wire upstream)", () => {
  it("returns a function call, then answers its output in a second stateless turn", async () => {
    const marker = unique("tools");
    const first = await client.responses.create({
      model: "large",
      input: [{ role: "user", content: marker }],
      tools: [weather],
      text: { format: { type: "json_schema", name: "out", schema: { type: "object" }, strict: true } },
      reasoning: { effort: "low" },
    });
    const call = first.output.find((item) => item.type === "function_call");
    expect(call?.type === "function_call" && call.name).toBe("get_weather");
    if (call?.type !== "function_call") throw new Error("no function call");
    expect(JSON.parse(call.arguments).city).toBe("Paris");
    const upstream = upstreamBodyWith(marker);
    expect(upstream.response_format).toEqual({
      type: "json_schema",
      json_schema: { name: "out", schema: { type: "object" }, strict: true },
    });
    expect(upstream.reasoning_effort).toBe("low");
    expect(upstream.tools).toEqual([
      {
        type: "function",
        function: {
          name: "get_weather",
          description: weather.description,
          parameters: weather.parameters,
          strict: true,
        },
      },
    ]);

    const second = await client.responses.create({
      model: "large",
      input: [
        { role: "user", content: `${marker} again` },
        call,
        { type: "function_call_output", call_id: call.call_id, output: '{"temp":21}' },
      ],
    });
    expect(second.output_text).toMatch(/^answer \d+ choice 0$/);
    const messages = upstreamBodyWith(`${marker} again`).messages as Record<string, unknown>[];
    expect(messages[1]).toMatchObject({
      role: "assistant",
      tool_calls: [{ id: call.call_id, type: "function" }],
    });
    expect(messages[2]).toEqual({ role: "tool", tool_call_id: call.call_id, content: '{"temp":21}' });
  });

  it("streams function call arguments", async () => {
    const stream = client.responses.stream({
      model: "large",
      input: unique("stream tools"),
      tools: [weather],
    });
    let argumentDeltas = "";
    for await (const event of stream) {
      if (event.type === "response.function_call_arguments.delta") argumentDeltas += event.delta;
    }
    const final = await stream.finalResponse();
    const call = final.output.find((item) => item.type === "function_call");
    expect(call?.type === "function_call" && call.arguments).toBe(argumentDeltas);
    expect(JSON.parse(argumentDeltas).city).toBe("Paris");
  });

  it("streams logprobs when top_logprobs is set", async () => {
    const final = await client.responses
      .stream({ model: "large", input: unique("logprobs"), top_logprobs: 2 })
      .finalResponse();
    const message = final.output.find((item) => item.type === "message");
    const part = message?.type === "message" ? message.content[0] : undefined;
    expect(part?.type === "output_text" && part.logprobs?.[0]?.top_logprobs).toHaveLength(2);
  });
});

describe("POST /v1/responses refusals", () => {
  it("answers an unknown previous_response_id with a 404 naming it", async () => {
    const error = await client.responses
      .create({ model: "small", input: "x", previous_response_id: "resp_123" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).param).toBe("previous_response_id");
    expect((error as InstanceType<typeof OpenAI.NotFoundError>).requestID).toBeTruthy();
  });

  it("refuses conversation with a 400 naming it", async () => {
    const error = await client.responses
      .create({ model: "small", input: "x", conversation: "conv_123" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("conversation");
  });

  it("refuses an unknown field and a malformed input with 400s", async () => {
    const unknown = await client.responses
      .create({ model: "small", input: "x", bogus: true } as never)
      .catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(OpenAI.BadRequestError);
    expect((unknown as Error).message).toContain("bogus");
    const malformed = await client.responses
      .create({ model: "small", input: [{ role: "user", content: [{ type: "input_image" }] }] } as never)
      .catch((e: unknown) => e);
    expect(malformed).toBeInstanceOf(OpenAI.BadRequestError);
  });
});
