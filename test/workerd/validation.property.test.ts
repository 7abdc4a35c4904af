import { env, exports } from "cloudflare:workers";
import fc from "fast-check";
import { describe, expect, it } from "vitest";

interface ErrorShape {
  error: { message: string; type: string; code: string; param: string | null; request_id: string };
}

async function send(path: string, body: string, contentType = "application/json"): Promise<Response> {
  return exports.default.fetch(`http://edge.test${path}`, {
    method: "POST",
    headers: { "content-type": contentType, authorization: `Bearer ${env.TEST_API_KEY}` },
    body,
  });
}

/** Only a 4xx in OpenAI's error shape, with the request id, is acceptable. */
async function expectClientError(response: Response): Promise<ErrorShape["error"]> {
  expect(response.status).toBeGreaterThanOrEqual(400);
  expect(response.status).toBeLessThan(500);
  const body = (await response.json()) as ErrorShape;
  expect(typeof body.error.message).toBe("string");
  expect(body.error.type).toMatch(/_error$/);
  expect(typeof body.error.code).toBe("string");
  expect(body.error.param === null || typeof body.error.param === "string").toBe(true);
  expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  return body.error;
}

const valid = { model: "auto", messages: [{ role: "user", content: "hi" }] };
const paths = fc.constantFrom("/v1/chat/completions", "/v1/embeddings", "/v1/answer");

/**
 * Mutations that always make a chat request invalid, with the field they break.
 * NaN is excluded: JSON.stringify turns it into null, which the API accepts as "unset".
 */
const badChat = fc.oneof(
  fc.record({
    field: fc.constant("temperature"),
    value: fc.oneof(
      fc.double({ min: 2.0001, max: 1e9, noNaN: true }),
      fc.double({ max: -0.0001, min: -1e9, noNaN: true }),
      fc.string(),
    ),
  }),
  fc.record({
    field: fc.constant("top_p"),
    value: fc.oneof(fc.double({ min: 1.0001, max: 1e6, noNaN: true }), fc.constant(0), fc.boolean()),
  }),
  fc.record({
    field: fc.constant("max_tokens"),
    value: fc.oneof(
      fc.integer({ max: 0 }),
      fc.integer({ min: 4097 }),
      fc.double({ min: 1.1, max: 2.9, noNaN: true }),
    ),
  }),
  fc.record({
    field: fc.constant("presence_penalty"),
    value: fc.oneof(fc.double({ min: 2.0001, max: 1e6, noNaN: true }), fc.string()),
  }),
  // n > 1 is served (choices); past the cap of 128, or below 1, it is refused.
  fc.record({
    field: fc.constant("n"),
    value: fc.oneof(fc.integer({ min: 129, max: 100_000 }), fc.integer({ max: 0 }), fc.string()),
  }),
  fc.record({ field: fc.constant("stream"), value: fc.oneof(fc.string(), fc.integer()) }),
  fc.record({
    field: fc.constant("messages"),
    value: fc.oneof(
      fc.constant([]),
      fc.string(),
      fc.array(fc.record({ role: fc.constantFrom("robot", "USER", ""), content: fc.string() }), {
        minLength: 1,
        maxLength: 3,
      }),
    ),
  }),
  fc.record({
    field: fc.constant("model"),
    value: fc.oneof(fc.constant(""), fc.integer(), fc.constant(null)),
  }),
  fc
    .string({ minLength: 1, maxLength: 20 })
    .filter(
      (k) =>
        !(k in valid) &&
        !/^(temperature|top_p|max_tokens|max_completion_tokens|n|stream|stream_options|stop|presence_penalty|frequency_penalty|logit_bias|logprobs|top_logprobs|seed|user|response_format|tools|tool_choice|parallel_tool_calls|metadata|top_k|min_p|repetition_penalty|__proto__|constructor)$/.test(
          k,
        ),
    )
    .map((field) => ({ field, value: 1 as unknown })),
);

describe("property: malformed requests get only a 4xx in the OpenAI shape (in workerd)", () => {
  it("arbitrary JSON values as the body", async () => {
    await fc.assert(
      fc.asyncProperty(paths, fc.jsonValue(), async (path, value) => {
        await expectClientError(await send(path, JSON.stringify(value)));
      }),
      { numRuns: 60 },
    );
  });

  it("arbitrary text as the body (mostly not JSON)", async () => {
    await fc.assert(
      fc.asyncProperty(paths, fc.string({ maxLength: 200 }), async (path, text) => {
        await expectClientError(await send(path, text));
      }),
      { numRuns: 60 },
    );
  });

  it("a valid chat request with one field broken names that field in param", async () => {
    await fc.assert(
      fc.asyncProperty(badChat, async ({ field, value }) => {
        const error = await expectClientError(
          await send("/v1/chat/completions", JSON.stringify({ ...valid, [field]: value })),
        );
        expect(error.param?.startsWith(field)).toBe(true);
      }),
      { numRuns: 80 },
    );
  });

  it("wrong content types give 415", async () => {
    await fc.assert(
      fc.asyncProperty(
        paths,
        fc.constantFrom(
          "text/plain",
          "application/x-www-form-urlencoded",
          "multipart/form-data",
          "",
          "application/jsonx",
        ),
        async (path, type) => {
          const response = await send(path, JSON.stringify(valid), type);
          const error = await expectClientError(response);
          expect(response.status).toBe(415);
          expect(error.code).toBe("unsupported_media_type");
        },
      ),
      { numRuns: 20 },
    );
  });

  it("oversized content: over the character cap is 400 on messages, over the byte cap is 413", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 100_001, max: 400_000 }),
        fc.integer({ min: 1, max: 4 }),
        async (chars, parts) => {
          const messages = Array.from({ length: parts }, () => ({
            role: "user",
            content: "x".repeat(Math.ceil(chars / parts)),
          }));
          const error = await expectClientError(
            await send("/v1/chat/completions", JSON.stringify({ ...valid, messages })),
          );
          expect(error.param).toBe("messages");
        },
      ),
      { numRuns: 8 },
    );
    const huge = JSON.stringify({ ...valid, messages: [{ role: "user", content: "y".repeat(2_200_000) }] });
    const response = await send("/v1/chat/completions", huge);
    expect(response.status).toBe(413);
    await expectClientError(response);
  });
});
