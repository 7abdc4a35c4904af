import { describe, expect, it } from "vitest";
import {
  chatCompletionRequestSchema,
  embeddingRequestSchema,
  float32ToBase64,
  messageText,
  stopList,
  validationError,
} from "../../stack/model-server/openai-schemas.ts";

describe("OpenAI request schemas", () => {
  it("accepts what the openai SDK sends and ignores unknown fields", () => {
    const parsed = chatCompletionRequestSchema.parse({
      model: "tiergate-small",
      messages: [
        { role: "system", content: "be brief" },
        { role: "user", content: [{ type: "text", text: "hi" }] },
        { role: "assistant", content: null },
      ],
      temperature: 0,
      stop: "\n",
      presence_penalty: 0.5,
    });
    expect(parsed.messages).toHaveLength(3);
    expect(parsed).not.toHaveProperty("presence_penalty");
  });

  it("turns the first problem into an invalid_request_error naming the field", () => {
    const result = chatCompletionRequestSchema.safeParse({ model: "m", messages: [], temperature: 1 });
    expect(result.success).toBe(false);
    if (result.success) return;
    expect(validationError(result.error).error).toMatchObject({
      type: "invalid_request_error",
      param: "messages",
    });
    expect(
      chatCompletionRequestSchema.safeParse({ model: "m", messages: [{ role: "user", content: "x" }], n: 2 })
        .success,
    ).toBe(false);
    expect(embeddingRequestSchema.safeParse({ model: "e", input: [1, 2] }).success).toBe(false);
    expect(embeddingRequestSchema.safeParse({ model: "e", input: "x", encoding_format: "hex" }).success).toBe(
      false,
    );
  });

  it("flattens message content and stop lists", () => {
    expect(messageText(null)).toBe("");
    expect(messageText("plain")).toBe("plain");
    expect(
      messageText([
        { type: "text", text: "a" },
        { type: "text", text: "b" },
      ]),
    ).toBe("ab");
    expect(stopList(undefined)).toEqual([]);
    expect(stopList("x")).toEqual(["x"]);
    expect(stopList(["x", ""])).toEqual(["x"]);
  });

  it("encodes embeddings as little-endian float32 base64", () => {
    const vector = new Float32Array([1, -0.5, 0.25]);
    const bytes = Buffer.from(float32ToBase64(vector), "base64");
    expect(bytes).toHaveLength(12);
    const decoded = new Float32Array(bytes.buffer, bytes.byteOffset, 3);
    expect(Array.from(decoded)).toEqual([1, -0.5, 0.25]);
  });
});
