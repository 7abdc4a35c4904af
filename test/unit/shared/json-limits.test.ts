import { describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { excessiveDepthPath, maxJsonDepth, parseJsonBodyText } from "../../../shared/json-limits.ts";
import { chatCompletionRequestSchema } from "../../../shared/schemas/chat.ts";
import { parseOrThrow } from "../../../shared/validation.ts";
import { chatInit, FakePool, unitEnv } from "../edge/fake-pool.ts";

/** The reproduction: ~600 KB whose response_format.json_schema.schema nests 100,000 levels. */
function deeplyNestedChat(levels = 100_000): string {
  const schema = `${'{"a":'.repeat(levels)}1${"}".repeat(levels)}`;
  return `{"model":"auto","temperature":0,"messages":[{"role":"user","content":"hi"}],"response_format":{"type":"json_schema","json_schema":{"name":"x","schema":${schema}}}}`;
}

describe("JSON depth and key caps", () => {
  it("finds excessive depth in one pass and names where it is", () => {
    expect(excessiveDepthPath('{"a":[1,{"b":"[[[[{{{{"}]}', 4)).toBeUndefined();
    expect(excessiveDepthPath('{"a":[1,{"b":{"c":{}}}]}', 4)).toBe("a[1].b.c");
    expect(excessiveDepthPath('{"a\\"q":[[[[1]]]]}', 3)).toBe('a"q[0][0]');
    expect(excessiveDepthPath("[".repeat(maxJsonDepth + 1))).toBe(`${"[0]".repeat(8)}`);
  });

  it("refuses the 600 KB, 100,000-level request with 400 and param (edge)", async () => {
    const pool = new FakePool();
    const env = unitEnv(`local=${await pool.start()}`);
    try {
      const body = deeplyNestedChat();
      expect(body.length).toBeGreaterThan(590_000);
      const init = chatInit({});
      const response = await createEdgeApp().request("/v1/chat/completions", { ...init, body }, env);
      expect(response.status).toBe(400);
      const error = (
        (await response.json()) as { error: { param: string; type: string; request_id: string } }
      ).error;
      expect(error.type).toBe("invalid_request_error");
      expect(error.param).toMatch(/^response_format\.json_schema\.schema\.a/);
      expect(error.request_id).toBe(response.headers.get("x-request-id"));
      expect(pool.chatCalls).toBe(0);
    } finally {
      await pool.stop();
    }
  });

  it("refuses the same body with a 400 GatewayError at the pool's parser", () => {
    expect(() => parseJsonBodyText(deeplyNestedChat())).toThrow(
      expect.objectContaining({
        code: "BAD_REQUEST",
        options: expect.objectContaining({ param: expect.any(String) }),
      }),
    );
    expect(() => parseJsonBodyText("{")).toThrow(expect.objectContaining({ code: "INVALID_JSON" }));
  });

  it("caps keys in free-form records with param", () => {
    const schema = chatCompletionRequestSchema();
    const base = { model: "auto", messages: [{ role: "user", content: "hi" }] };
    const wide = Object.fromEntries(Array.from({ length: 2_000 }, (_, i) => [`k${i}`, { type: "string" }]));
    const cases: [unknown, string][] = [
      [
        { ...base, response_format: { type: "json_schema", json_schema: { schema: { properties: wide } } } },
        "response_format.json_schema",
      ],
      [
        { ...base, tools: [{ type: "function", function: { name: "f", parameters: { properties: wide } } }] },
        "tools[0].function.parameters",
      ],
      [
        { ...base, metadata: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`m${i}`, "v"])) },
        "metadata",
      ],
      [
        {
          ...base,
          rag: {
            collection: "docs",
            filter: Object.fromEntries(Array.from({ length: 17 }, (_, i) => [`f${i}`, "v"])),
          },
        },
        "rag.filter",
      ],
    ];
    for (const [body, param] of cases) {
      expect(() => parseOrThrow(schema, body)).toThrow(
        expect.objectContaining({ status: 400, options: expect.objectContaining({ param }) }),
      );
    }
    expect(parseOrThrow(schema, { ...base, metadata: { a: "b" } }).metadata).toEqual({ a: "b" });
  });
});
