import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../shared/errors.ts";
import { chatCompletionRequestSchema } from "../../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../../shared/validation.ts";

const schema = chatCompletionRequestSchema({ maxContentChars: 1_000, maxMessages: 8, maxTokens: 512 });
const valid = { model: "auto", messages: [{ role: "user", content: "hello" }] };

function errorOf(input: unknown): GatewayError {
  try {
    parseOrThrow(schema, input);
  } catch (error: unknown) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  throw new Error("expected a validation error");
}

describe("chat completion request schema", () => {
  it("accepts a minimal OpenAI request and vLLM's extra sampling params", () => {
    expect(parseOrThrow(schema, valid)).toMatchObject(valid);
    expect(parseOrThrow(schema, { ...valid, top_k: 40, min_p: 0.1, repetition_penalty: 1.1 })).toMatchObject({
      top_k: 40,
    });
  });

  it.each([
    [{ ...valid, temperature: 3 }, "temperature"],
    [{ ...valid, top_p: 0 }, "top_p"],
    [{ ...valid, max_tokens: 0 }, "max_tokens"],
    [{ ...valid, max_tokens: 513 }, "max_tokens"],
    [{ ...valid, messages: [] }, "messages"],
    [{ ...valid, messages: [{ role: "wizard", content: "x" }] }, "messages[0].role"],
    [{ ...valid, messages: [{ role: "user", content: 5 }] }, "messages[0].content"],
    [{ ...valid, model: "" }, "model"],
    [{ messages: valid.messages }, "model"],
    [{ ...valid, frobnicate: true }, "frobnicate"],
    [{ ...valid, messages: [{ role: "user", content: "x", extra: 1 }] }, "messages[0].extra"],
  ])("rejects %j naming param %s", (input, param) => {
    const error = errorOf(input);
    expect(error.status).toBe(400);
    expect(error.options.param).toBe(param);
  });

  it("caps total content characters and message count", () => {
    expect(
      errorOf({ ...valid, messages: [{ role: "user", content: "x".repeat(1_001) }] }).options.param,
    ).toBe("messages");
    const many = Array.from({ length: 9 }, () => ({ role: "user", content: "x" }));
    expect(errorOf({ ...valid, messages: many }).options.param).toBe("messages");
  });

  it("never throws anything but a 400 GatewayError on arbitrary JSON", () => {
    fc.assert(
      fc.property(fc.jsonValue(), (input) => {
        try {
          parseOrThrow(schema, input);
        } catch (error: unknown) {
          return error instanceof GatewayError && error.status === 400;
        }
        return true;
      }),
      { numRuns: 2_000 },
    );
  });
});
