import { createRoute } from "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import type { Logger } from "../../../shared/logger.ts";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { createDocumentedApp, jsonContent } from "../../../shared/openapi.ts";
import { chatCompletionRequestSchema } from "../../../shared/schemas/chat.ts";
import { parsedSynchronously } from "../../../shared/validation.ts";

const bodies: unknown[] = [
  { model: "auto", temperature: 0, messages: [{ role: "user", content: "hi" }] },
  { model: "auto", messages: [{ role: "user", content: "hi" }], surprise: 1 },
  { model: "auto", messages: [{ role: "nobody", content: "hi" }] },
  { model: "auto", messages: [{ role: "user", content: "x".repeat(200_001) }] },
  { model: 3, messages: [] },
];

describe("parsedSynchronously", () => {
  it("answers safeParseAsync exactly as the schema's own async parse does", async () => {
    const plain = chatCompletionRequestSchema();
    const sync = parsedSynchronously(chatCompletionRequestSchema());
    for (const body of bodies) {
      const [a, b] = [await plain.safeParseAsync(body), await sync.safeParseAsync(body)];
      expect(b.success).toBe(a.success);
      if (a.success && b.success) expect(b.data).toEqual(a.data);
      if (!a.success && !b.success) expect(b.error.issues).toEqual(a.error.issues);
    }
  });

  it("keeps a route's 400 naming the field, and its parsed body", async () => {
    const app = createDocumentedApp<{ Variables: { requestId: string; log: Logger } }>();
    app.onError(createErrorHandler("pool"));
    const route = createRoute({
      method: "post",
      path: "/chat",
      request: {
        body: { required: true, content: jsonContent(parsedSynchronously(chatCompletionRequestSchema())) },
      },
      responses: { 200: { description: "ok" } },
    });
    app.openapi(route, (c) => c.json(c.req.valid("json"), 200));
    const post = (body: unknown) =>
      app.request("/chat", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(body),
      });
    const ok = await post(bodies[0]);
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual(bodies[0]);
    const bad = await post(bodies[1]);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { param: string } }).error.param).toBe("surprise");
  });
});
