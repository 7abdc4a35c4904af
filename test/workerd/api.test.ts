import { env, exports } from "cloudflare:workers";
import { describe, expect, it } from "vitest";

const auth = () => ({ authorization: `Bearer ${env.TEST_API_KEY}` });

describe("API surface", () => {
  it("serves an OpenAPI 3.1 document built from the zod schemas", async () => {
    const response = await exports.default.fetch("http://edge.test/openapi.json");
    expect(response.status).toBe(200);
    const doc = (await response.json()) as {
      openapi: string;
      paths: Record<string, unknown>;
      components: { schemas: Record<string, { properties?: Record<string, unknown>; required?: string[] }> };
    };
    expect(doc.openapi).toBe("3.1.0");
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(["/v1/chat/completions", "/v1/embeddings", "/v1/models", "/v1/answer"]),
    );
    const chat = doc.components.schemas.ChatCompletionRequest;
    expect(chat?.required).toEqual(expect.arrayContaining(["model", "messages"]));
    expect(chat?.properties?.temperature).toMatchObject({ minimum: 0, maximum: 2 });
  });

  it("lists models (from the pool, or the aliases with x-fallback)", async () => {
    const response = await exports.default.fetch("http://edge.test/v1/models", { headers: auth() });
    const body = (await response.json()) as { object: string; data: { id: string }[] };
    expect(body.object).toBe("list");
    expect(body.data.length).toBeGreaterThan(0);
    expect(response.headers.get("x-ratelimit-limit")).toBe("100000");
  });

  it("validates /v1/answer and /v1/embeddings bodies with param", async () => {
    const post = (path: string, body: unknown) =>
      exports.default.fetch(`http://edge.test${path}`, {
        method: "POST",
        headers: { ...auth(), "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const answer = await post("/v1/answer", { question: "q", collection: "bad collection!" });
    expect(answer.status).toBe(400);
    expect(((await answer.json()) as { error: { param: string } }).error.param).toBe("collection");
    const embeddings = await post("/v1/embeddings", { model: "tiergate-embed", input: [], extra: 1 });
    expect(embeddings.status).toBe(400);
    expect(((await embeddings.json()) as { error: { param: string } }).error.param).toMatch(/input|extra/);
  });
});
