import OpenAI from "openai";
import { beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { edgeService, poolService } from "../../stack/gateway.ts";

let client: OpenAI;

beforeAll(async () => {
  await poolService.start();
  await edgeService.start();
  const { key } = await createTestApiKey(`sdk-${Date.now()}`);
  client = new OpenAI({ apiKey: key, baseURL: `${edgeService.url}/v1`, maxRetries: 0, timeout: 60_000 });
});

describe("the official openai SDK against the edge in workerd", () => {
  it("creates a chat completion", async () => {
    const { data, response } = await client.chat.completions
      .create({
        model: "auto",
        temperature: 0,
        max_tokens: 16,
        messages: [{ role: "user", content: `sdk ${crypto.randomUUID()}` }],
      })
      .withResponse();
    expect(data.object).toBe("chat.completion");
    expect(typeof data.choices[0]?.message.content).toBe("string");
    expect(response.headers.get("x-cache")).toBe("MISS");
    expect(response.headers.get("x-request-id")).toBeTruthy();
  });

  it("streams a chat completion", async () => {
    const stream = await client.chat.completions.create({
      model: "auto",
      max_tokens: 16,
      stream: true,
      messages: [{ role: "user", content: `stream ${crypto.randomUUID()}` }],
    });
    let chunks = 0;
    let finish: string | null | undefined = null;
    for await (const chunk of stream) {
      chunks++;
      finish = chunk.choices[0]?.finish_reason ?? finish;
    }
    expect(chunks).toBeGreaterThan(1);
    expect(finish).toBeTruthy();
  });

  it("creates embeddings", async () => {
    const result = await client.embeddings.create({ model: "tiergate-embed", input: ["hello", "world"] });
    expect(result.data).toHaveLength(2);
    expect(result.data[0]?.embedding.length).toBeGreaterThan(10);
  });

  it("lists models", async () => {
    const page = await client.models.list();
    expect(page.data.length).toBeGreaterThan(0);
  });

  it("surfaces a bad request as the SDK's BadRequestError with param", async () => {
    const error = await client.chat.completions
      .create({ model: "auto", temperature: 5, messages: [{ role: "user", content: "x" }] })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("temperature");
  });
});
