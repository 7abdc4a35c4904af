import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { type GatewayUnderTest, startGateway } from "./gateway-under-test.ts";

let gateway: GatewayUnderTest;
let client: OpenAI;

beforeAll(async () => {
  gateway = await startGateway("chat-fields", 18_120, 8_812);
  const { key } = await createTestApiKey(`chat-fields-${Date.now()}`);
  client = new OpenAI({ apiKey: key, baseURL: `${gateway.edgeUrl}/v1`, maxRetries: 0, timeout: 60_000 });
});

afterAll(async () => {
  await gateway?.stop();
});

const weather: OpenAI.ChatCompletionTool = {
  type: "function",
  function: {
    name: "get_weather",
    description: "The weather in a city",
    parameters: { type: "object", properties: { city: { type: "string" } }, required: ["city"] },
    strict: true,
  },
};

const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

/** The body the fake upstream received for the request whose last user message contains `marker`. */
function upstreamBodyWith(marker: string): Record<string, unknown> {
  const body = gateway.fake.bodies.find((b) => JSON.stringify(b.messages).includes(marker));
  if (!body) throw new Error(`no upstream request carried ${marker}`);
  return body;
}

describe("chat completions: every documented request field through the official SDK", () => {
  it("accepts and passes through the fields older schemas refused", async () => {
    const marker = unique("fields");
    const fields: Omit<OpenAI.ChatCompletionCreateParamsNonStreaming, "model" | "messages"> = {
      n: 2,
      reasoning_effort: "low",
      prompt_cache_key: "pck-1",
      prompt_cache_retention: "24h",
      service_tier: "flex",
      store: false,
      metadata: { team: "qa" },
      modalities: ["text"],
      prediction: { type: "content", content: "a predicted answer" },
      web_search_options: { search_context_size: "low" },
      verbosity: "low",
      safety_identifier: "user-hash-1",
      parallel_tool_calls: false,
      seed: 7,
      logprobs: true,
      top_logprobs: 2,
      response_format: {
        type: "json_schema",
        json_schema: { name: "answer", schema: { type: "object" }, strict: true },
      },
    };
    const completion = await client.chat.completions.create({
      model: "large",
      messages: [{ role: "user", content: marker }],
      ...fields,
    });
    expect(completion.choices).toHaveLength(2);
    expect(completion.choices[1]?.logprobs?.content?.[0]?.top_logprobs).toHaveLength(2);
    const upstream = upstreamBodyWith(marker);
    for (const [field, value] of Object.entries(fields)) expect(upstream[field], field).toEqual(value);
    expect(upstream.model).toBe("fake-large");
  });

  it("passes audio output settings, media parts and a data: image above 2,048 characters", async () => {
    const marker = unique("media");
    const image = `data:image/png;base64,${Buffer.alloc(150_000, 7).toString("base64")}`;
    const completion = await client.chat.completions.create({
      model: "large",
      modalities: ["text", "audio"],
      audio: { voice: "alloy", format: "wav" },
      messages: [
        {
          role: "user",
          content: [
            { type: "text", text: marker },
            { type: "image_url", image_url: { url: image, detail: "low" } },
            {
              type: "input_audio",
              input_audio: { data: Buffer.from("RIFF").toString("base64"), format: "wav" },
            },
            { type: "file", file: { filename: "a.pdf", file_data: "data:application/pdf;base64,JVBERi0=" } },
          ],
        },
      ],
    });
    expect(completion.choices[0]?.message.content).toMatch(/^answer \d+ choice 0$/);
    const upstream = upstreamBodyWith(marker) as {
      messages: { content: { type: string }[] }[];
      audio: unknown;
    };
    expect(upstream.audio).toEqual({ voice: "alloy", format: "wav" });
    const parts = upstream.messages[0]?.content ?? [];
    expect(parts.map((p) => p.type)).toEqual(["text", "image_url", "input_audio", "file"]);
    expect(JSON.stringify(parts[1])).toContain(image);
  });

  it("refuses an unknown field with a 400 naming it", async () => {
    const error = await client.chat.completions
      .create({ model: "large", messages: [{ role: "user", content: "x" }], bogus_field: 1 } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect(String((error as Error).message)).toContain("bogus_field");
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).requestID).toBeTruthy();
  });
});

describe("chat completions: the cache and n, logprobs and tool calls", () => {
  it("caches n > 1 as one answer and keys it by n", async () => {
    const content = unique("n cache");
    const ask = (n: number) =>
      client.chat.completions
        .create({ model: "large", temperature: 0, n, messages: [{ role: "user", content }] })
        .withResponse();
    const first = await ask(2);
    expect(first.response.headers.get("x-cache")).toBe("MISS");
    expect(first.data.choices).toHaveLength(2);
    const again = await ask(2);
    expect(again.response.headers.get("x-cache")).toBe("HIT");
    expect(again.data.choices).toEqual(first.data.choices);
    const single = await ask(1);
    expect(single.response.headers.get("x-cache")).toBe("MISS");
    expect(single.data.choices).toHaveLength(1);
  });

  it("never serves an answer without logprobs to a request asking for them", async () => {
    const content = unique("logprobs cache");
    const ask = (logprobs: boolean) =>
      client.chat.completions
        .create({
          model: "large",
          temperature: 0,
          messages: [{ role: "user", content }],
          ...(logprobs ? { logprobs: true, top_logprobs: 1 } : {}),
        })
        .withResponse();
    expect((await ask(false)).response.headers.get("x-cache")).toBe("MISS");
    const withLogprobs = await ask(true);
    expect(withLogprobs.response.headers.get("x-cache")).toBe("MISS");
    expect(withLogprobs.data.choices[0]?.logprobs?.content?.length).toBeGreaterThan(0);
    const hit = await ask(true);
    expect(hit.response.headers.get("x-cache")).toBe("HIT");
    expect(hit.data.choices[0]?.logprobs).toEqual(withLogprobs.data.choices[0]?.logprobs);
  });

  it("replays a cached tool call and its logprobs as SSE, and a streamed one as JSON", async () => {
    const content = unique("tool replay");
    const request = {
      model: "large",
      temperature: 0,
      tools: [weather],
      tool_choice: "auto" as const,
      messages: [{ role: "user" as const, content }],
    };
    const json = await client.chat.completions.create(request).withResponse();
    expect(json.response.headers.get("x-cache")).toBe("MISS");
    const call = json.data.choices[0]?.message.tool_calls?.[0];
    expect(call?.type === "function" && call.function.name).toBe("get_weather");

    const replay = client.chat.completions.stream({ ...request, stream_options: { include_usage: true } });
    const replayed = await replay.finalChatCompletion();
    // The same call id proves the replay came from the cache: a fresh answer carries the next call number.
    expect(replayed.choices[0]?.message.tool_calls).toMatchObject(
      json.data.choices[0]?.message.tool_calls ?? [],
    );
    expect(replayed.choices[0]?.finish_reason).toBe("tool_calls");

    const streamedFirst = {
      ...request,
      logprobs: true,
      messages: [{ role: "user" as const, content: `${content} 2` }],
    };
    const streamed = await client.chat.completions.stream(streamedFirst).finalChatCompletion();
    const tools = streamed.choices[0]?.message.tool_calls;
    expect(tools?.[0]?.type === "function" && JSON.parse(tools[0].function.arguments).city).toBe("Paris");
    const fromCache = await client.chat.completions.create(streamedFirst).withResponse();
    expect(fromCache.response.headers.get("x-cache")).toBe("HIT");
    expect(tools).toMatchObject(fromCache.data.choices[0]?.message.tool_calls ?? []);
    expect(fromCache.data.choices[0]?.message.tool_calls?.[0]?.id).toBe(tools?.[0]?.id);
  });

  it("replays cached text logprobs as SSE", async () => {
    const request = {
      model: "large",
      temperature: 0,
      logprobs: true,
      top_logprobs: 2,
      messages: [{ role: "user" as const, content: unique("sse logprobs") }],
    };
    const json = await client.chat.completions.create(request);
    const { data: stream, response } = await client.chat.completions
      .create({ ...request, stream: true })
      .withResponse();
    expect(response.headers.get("x-cache")).toBe("HIT");
    const tokens: unknown[] = [];
    let text = "";
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      tokens.push(...(chunk.choices[0]?.logprobs?.content ?? []));
    }
    expect(text).toBe(json.choices[0]?.message.content);
    expect(tokens).toEqual(json.choices[0]?.logprobs?.content);
  });
});

describe("chat completions: a stream commits at its first delta of any kind", () => {
  it("delivers a tool call delta while the upstream still holds the rest", async () => {
    const stream = await client.chat.completions.create({
      model: "large",
      stream: true,
      tools: [weather],
      messages: [{ role: "user", content: unique("[hold]") }],
    });
    const iterator = stream[Symbol.asyncIterator]();
    let first = await iterator.next();
    while (!first.done && !first.value.choices[0]?.delta.tool_calls) first = await iterator.next();
    expect(first.done).toBe(false);
    // Only now may the upstream finish: a pool that waited for text would never have sent the delta.
    gateway.fake.release();
    let finish: string | null | undefined = null;
    for (let next = await iterator.next(); !next.done; next = await iterator.next()) {
      finish = next.value.choices[0]?.finish_reason ?? finish;
    }
    expect(finish).toBe("tool_calls");
  });
});
