import Anthropic from "@anthropic-ai/sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { type GatewayUnderTest, startGateway } from "./gateway-under-test.ts";

let gateway: GatewayUnderTest;
let client: Anthropic;
let key = "";

beforeAll(async () => {
  gateway = await startGateway("messages", 18_140, 8_832);
  key = (await createTestApiKey(`messages-${Date.now()}`)).key;
  client = new Anthropic({ apiKey: key, baseURL: gateway.edgeUrl, maxRetries: 0, timeout: 60_000 });
});

afterAll(async () => {
  await gateway?.stop();
});

const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

const weather: Anthropic.Tool = {
  name: "get_weather",
  description: "The weather in a city",
  input_schema: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
};

describe("POST /v1/messages with the official @anthropic-ai/sdk", () => {
  it("creates a message from the CPU model server, from cache the second time", async () => {
    const request = {
      model: "small",
      max_tokens: 12,
      temperature: 0,
      system: "Answer briefly.",
      messages: [{ role: "user" as const, content: unique("Say hello.") }],
    };
    const { data, response } = await client.messages.create(request).withResponse();
    expect(data.type).toBe("message");
    expect(data.content[0]?.type).toBe("text");
    expect(["end_turn", "max_tokens"]).toContain(data.stop_reason);
    expect(data.usage.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get("x-cache")).toBe("MISS");
    const again = await client.messages.create(request).withResponse();
    expect(again.response.headers.get("x-cache")).toBe("HIT");
    expect(again.data.content).toEqual(data.content);
  });

  it("streams a message with Anthropic's event types", async () => {
    const stream = client.messages.stream({
      model: "small",
      max_tokens: 12,
      messages: [{ role: "user", content: unique("Count to three.") }],
    });
    const types: string[] = [];
    let text = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "content_block_delta" && event.delta.type === "text_delta") text += event.delta.text;
    }
    const final = await stream.finalMessage();
    expect(types[0]).toBe("message_start");
    expect(types).toEqual(
      expect.arrayContaining(["content_block_start", "content_block_delta", "content_block_stop"]),
    );
    expect(types.slice(-2)).toEqual(["message_delta", "message_stop"]);
    expect(final.content[0]?.type === "text" && final.content[0].text).toBe(text);
  });

  it("uses tools, streamed and not, and answers a tool result", async () => {
    const marker = unique("tools");
    const message = await client.messages.create({
      model: "large",
      max_tokens: 64,
      tools: [weather],
      tool_choice: { type: "any" },
      messages: [{ role: "user", content: marker }],
    });
    expect(message.stop_reason).toBe("tool_use");
    const use = message.content.find((block) => block.type === "tool_use");
    if (use?.type !== "tool_use") throw new Error("no tool_use block");
    expect(use.name).toBe("get_weather");
    expect((use.input as { city: string }).city).toBe("Paris");
    const upstream = gateway.fake.bodies.find((b) => JSON.stringify(b.messages).includes(marker));
    expect(upstream?.tool_choice).toBe("required");

    const streamed = await client.messages
      .stream({
        model: "large",
        max_tokens: 64,
        tools: [weather],
        messages: [{ role: "user", content: unique("tools") }],
      })
      .finalMessage();
    const streamedUse = streamed.content.find((block) => block.type === "tool_use");
    expect(streamedUse?.type === "tool_use" && (streamedUse.input as { city: string }).city).toBe("Paris");
    expect(streamed.stop_reason).toBe("tool_use");

    const answer = await client.messages.create({
      model: "large",
      max_tokens: 64,
      messages: [
        { role: "user", content: `${marker} again` },
        { role: "assistant", content: [use] },
        { role: "user", content: [{ type: "tool_result", tool_use_id: use.id, content: "21 degrees" }] },
      ],
    });
    expect(answer.content[0]?.type === "text" && answer.content[0].text).toMatch(/^answer \d+ choice 0$/);
    const second = gateway.fake.bodies.find((b) => JSON.stringify(b.messages).includes(`${marker} again`));
    const messages = second?.messages as Record<string, unknown>[];
    expect(messages[1]).toMatchObject({ role: "assistant", tool_calls: [{ id: use.id }] });
    expect(messages[2]).toEqual({ role: "tool", tool_call_id: use.id, content: "21 degrees" });
  });

  it("answers bad input and a bad key in Anthropic's error shape with the request id", async () => {
    const bad = await client.messages
      .create({
        model: "small",
        max_tokens: 8,
        messages: [{ role: "user", content: "x" }],
        bogus: 1,
      } as never)
      .catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    const body = (bad as InstanceType<typeof Anthropic.BadRequestError>).error as {
      type: string;
      error: { type: string; message: string };
      request_id: string;
    };
    expect(body.type).toBe("error");
    expect(body.error.type).toBe("invalid_request_error");
    expect(body.error.message).toContain("bogus");
    expect(body.request_id).toBeTruthy();

    const anonymous = new Anthropic({ apiKey: "tg_not_a_key", baseURL: gateway.edgeUrl, maxRetries: 0 });
    const denied = await anonymous.messages
      .create({ model: "small", max_tokens: 8, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(denied).toBeInstanceOf(Anthropic.AuthenticationError);
  });

  it("accepts the key as Authorization: Bearer too", async () => {
    const response = await fetch(`${gateway.edgeUrl}/v1/messages`, {
      method: "POST",
      headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "large",
        max_tokens: 8,
        messages: [{ role: "user", content: unique("bearer") }],
      }),
    });
    expect(response.status).toBe(200);
    expect(((await response.json()) as { type: string }).type).toBe("message");
  });
});
