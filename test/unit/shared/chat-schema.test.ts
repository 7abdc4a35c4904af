import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { z } from "zod";
import { GatewayError } from "../../../shared/errors.ts";
import {
  chatCompletionRequestBodySchema,
  chatCompletionRequestSchema,
  chatRequestLimitsSchema,
} from "../../../shared/schemas/chat.ts";
import {
  embeddingsLimitsSchema,
  embeddingsRequestBodySchema,
  embeddingsRequestSchema,
} from "../../../shared/schemas/embeddings.ts";
import { parseOrThrow } from "../../../shared/validation.ts";

const schema = chatCompletionRequestSchema({ maxContentChars: 1_000, maxMessages: 8, maxTokens: 512 });
const valid = { model: "auto", messages: [{ role: "user", content: "hello" }] };

/** The 400 `check` throws for `input`, or null when it passes. */
function errorFrom(check: () => unknown): GatewayError | null {
  try {
    check();
  } catch (error: unknown) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  return null;
}

function errorOf(input: unknown): GatewayError {
  const error = errorFrom(() => parseOrThrow(schema, input));
  if (!error) throw new Error("expected a validation error");
  return error;
}

/** What the edge does: the route's schema without caps, then the deployment's caps over its output. */
function inTwoSteps<S extends z.ZodType>(body: S, limits: z.ZodType, input: unknown): GatewayError | null {
  return errorFrom(() => parseOrThrow(limits, parseOrThrow(body, input)));
}

const summary = (error: GatewayError | null) =>
  error && { message: error.message, param: error.options.param };

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

  it("the uncapped schema plus the caps give the full schema's verdict and message", () => {
    const limits = { maxContentChars: 1_000, maxMessages: 8, maxTokens: 512 };
    const capped = chatRequestLimitsSchema(limits);
    const message = fc.record({ role: fc.constantFrom("user", "system", "wizard"), content: fc.string() });
    const request = fc.record(
      {
        model: fc.constantFrom("auto", ""),
        messages: fc.oneof(
          fc.array(message, { maxLength: 12 }),
          fc.constant([{ role: "user", content: "x".repeat(1_200) }]),
        ),
        max_tokens: fc.oneof(fc.integer({ min: -2, max: 700 }), fc.double({ min: 1, max: 3 })),
        max_completion_tokens: fc.integer({ min: 0, max: 700 }),
        temperature: fc.double({ min: -1, max: 3, noNaN: true }),
      },
      { requiredKeys: ["messages"] },
    );
    fc.assert(
      fc.property(request, (input) => {
        const full = errorFrom(() => parseOrThrow(schema, input));
        const split = inTwoSteps(chatCompletionRequestBodySchema, capped, input);
        expect(split === null).toBe(full === null);
        // One issue at a time, the message is the same; with several, which comes first may differ.
        if (full && split && full.options.param === split.options.param)
          expect(summary(split)).toEqual(summary(full));
      }),
      { numRuns: 1_000 },
    );
  });

  it("embeddings: the uncapped schema plus the caps give the full schema's message for one fault", () => {
    const limits = { maxInputs: 3, maxInputChars: 10 };
    const full = embeddingsRequestSchema(limits);
    const capped = embeddingsLimitsSchema(limits);
    for (const input of [
      { model: "e", input: "x".repeat(11) },
      { model: "e", input: ["a", "b", "c", "d"] },
      { model: "e", input: ["a", "x".repeat(11)] },
      { model: "e", input: "" },
      { model: "e", input: ["ok"] },
    ]) {
      expect(summary(inTwoSteps(embeddingsRequestBodySchema, capped, input))).toEqual(
        summary(errorFrom(() => parseOrThrow(full, input))),
      );
    }
  });
});
