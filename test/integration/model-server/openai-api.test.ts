import OpenAI, { APIError } from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { localModelServer, modelServerService } from "../../stack/services/model-server.ts";

const client = new OpenAI({
  baseURL: localModelServer.baseURL,
  apiKey: localModelServer.apiKey,
  maxRetries: 0,
});
const [small, medium] = localModelServer.chatModels;
const embedModel = localModelServer.embeddingModel;

function cosine(a: number[], b: number[]): number {
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a[i] ?? 0) * (b[i] ?? 0);
  return dot;
}

async function embed(input: string[]): Promise<number[][]> {
  const response = await client.embeddings.create({ model: embedModel, input });
  return response.data.sort((x, y) => x.index - y.index).map((d) => d.embedding);
}

async function rejection(call: () => Promise<unknown>): Promise<APIError> {
  const error = await call().then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof APIError)) throw new Error(`expected an APIError, got ${String(error)}`);
  return error;
}

describe("model server: OpenAI-compatible API", () => {
  beforeAll(async () => {
    await modelServerService.install();
    await modelServerService.start();
  });

  it("answers a chat completion with SmolLM2 text in OpenAI's shape", async () => {
    const completion = await client.chat.completions.create({
      model: small ?? "",
      messages: [
        { role: "system", content: "You are a helpful assistant." },
        { role: "user", content: "What is the capital of France?" },
      ],
      temperature: 0,
      max_tokens: 24,
    });
    expect(completion.object).toBe("chat.completion");
    expect(completion.id).toMatch(/^chatcmpl-/);
    expect(completion.model).toBe(small);
    expect(Number.isInteger(completion.created)).toBe(true);
    const [first] = completion.choices;
    expect(first?.index).toBe(0);
    expect(first?.message.role).toBe("assistant");
    expect(first?.message.content?.trim().length).toBeGreaterThan(0);
    expect(first?.message.content).toContain("Paris");
    expect(["stop", "length"]).toContain(first?.finish_reason);
    const usage = completion.usage;
    expect(usage?.prompt_tokens).toBeGreaterThan(0);
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    expect(usage?.total_tokens).toBe((usage?.prompt_tokens ?? 0) + (usage?.completion_tokens ?? 0));
  });

  it("streams chat chunks that add up to the non-streamed answer and end with a finish reason", async () => {
    const request = {
      model: medium ?? "",
      messages: [{ role: "user" as const, content: "Name three colors." }],
      temperature: 0,
      max_tokens: 16,
    };
    const stream = await client.chat.completions.create({
      ...request,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let chunks = 0;
    let finishReason: string | null = null;
    let completionTokens = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe("chat.completion.chunk");
      const choice = chunk.choices[0];
      text += choice?.delta.content ?? "";
      finishReason = choice?.finish_reason ?? finishReason;
      completionTokens = chunk.usage?.completion_tokens ?? completionTokens;
    }
    expect(chunks).toBeGreaterThan(2);
    expect(["stop", "length"]).toContain(finishReason);
    expect(completionTokens).toBeGreaterThan(0);
    const whole = await client.chat.completions.create(request);
    expect(text).toBe(whole.choices[0]?.message.content);
  });

  it("is deterministic at temperature 0", async () => {
    const request = {
      model: small ?? "",
      messages: [{ role: "user" as const, content: "Write one sentence about the sea." }],
      temperature: 0,
      max_tokens: 32,
    };
    const a = await client.chat.completions.create(request);
    const b = await client.chat.completions.create(request);
    expect(a.choices[0]?.message.content?.length).toBeGreaterThan(0);
    expect(b.choices[0]?.message.content).toBe(a.choices[0]?.message.content);
  });

  it("serves text completions and honours max_tokens and stop", async () => {
    const capped = await client.completions.create({
      model: small ?? "",
      prompt: "1, 2, 3, 4,",
      temperature: 0,
      max_tokens: 5,
    });
    expect(capped.object).toBe("text_completion");
    expect(capped.choices[0]?.finish_reason).toBe("length");
    expect(capped.usage?.completion_tokens).toBe(5);
    const stopped = await client.completions.create({
      model: small ?? "",
      prompt: "1, 2, 3, 4,",
      temperature: 0,
      max_tokens: 40,
      stop: ["7"],
    });
    expect(stopped.choices[0]?.finish_reason).toBe("stop");
    expect(stopped.choices[0]?.text).not.toContain("7");
    expect(stopped.choices[0]?.text).toContain("6");
  });

  it("embeds into 384 unit-length dimensions where related sentences are closer", async () => {
    const [cat, kitten, revenue] = await embed([
      "The cat sits on the mat.",
      "A kitten is resting on a rug.",
      "Quarterly revenue grew by ten percent.",
    ]);
    if (!cat || !kitten || !revenue) throw new Error("expected three embeddings");
    expect(cat).toHaveLength(384);
    expect(Math.sqrt(cosine(cat, cat))).toBeCloseTo(1, 3);
    expect(cosine(cat, kitten)).toBeGreaterThan(cosine(cat, revenue) + 0.2);
  });

  it("returns the same vector as floats and as base64, for a single string input", async () => {
    const asFloat = await client.embeddings.create({
      model: embedModel,
      input: "hello",
      encoding_format: "float",
    });
    const [fromBase64] = await embed(["hello"]);
    expect(asFloat.object).toBe("list");
    expect(asFloat.data).toHaveLength(1);
    expect(asFloat.usage.prompt_tokens).toBeGreaterThan(0);
    const floats = asFloat.data[0]?.embedding ?? [];
    expect(floats).toHaveLength(384);
    floats.forEach((value, i) => {
      expect(fromBase64?.[i]).toBeCloseTo(value, 6);
    });
  });

  it("lists every configured model name", async () => {
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    expect(ids).toEqual(expect.arrayContaining([...localModelServer.chatModels, embedModel]));
  });

  it("answers 404 model_not_found for an unknown model", async () => {
    const error = await rejection(() =>
      client.chat.completions.create({ model: "no-such-model", messages: [{ role: "user", content: "hi" }] }),
    );
    expect(error.status).toBe(404);
    expect(error.code).toBe("model_not_found");
    expect(error.type).toBe("invalid_request_error");
  });

  it("answers 400 in OpenAI's error shape for bad input", async () => {
    const response = await fetch(`${localModelServer.baseURL}/chat/completions`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ model: small, messages: [], temperature: 7 }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error?: Record<string, unknown> };
    expect(body.error).toEqual({
      message: expect.any(String),
      type: "invalid_request_error",
      param: expect.any(String),
      code: expect.any(String),
    });
    const wrongKind = await rejection(() => client.embeddings.create({ model: small ?? "", input: "hi" }));
    expect(wrongKind.status).toBe(400);
    const tooLong = await rejection(() =>
      client.completions.create({ model: small ?? "", prompt: "word ".repeat(3000), max_tokens: 8 }),
    );
    expect(tooLong.status).toBe(400);
    expect(tooLong.code).toBe("context_length_exceeded");
  });
});
