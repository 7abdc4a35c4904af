/**
 * An OpenAI-compatible upstream that answers instantly, for gateway overhead benchmarks:
 * `bun test/bench/instant-upstream.ts [port]` (default 8091). Chat (JSON and SSE), embeddings, models.
 */

const port = Number(process.argv[2] ?? process.env.INSTANT_UPSTREAM_PORT ?? 8091);

const completion = (model: string) =>
  JSON.stringify({
    id: "chatcmpl-instant",
    object: "chat.completion",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, message: { role: "assistant", content: "ok" }, finish_reason: "stop" }],
    usage: { prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 },
  });

function chunk(model: string, delta: Record<string, string>, finish: string | null): string {
  const body = {
    id: "chatcmpl-instant",
    object: "chat.completion.chunk",
    created: 1_700_000_000,
    model,
    choices: [{ index: 0, delta, finish_reason: finish }],
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

const server = Bun.serve({
  port,
  hostname: "127.0.0.1",
  async fetch(request) {
    const path = new URL(request.url).pathname.replace(/^\/v1/, "");
    if (path === "/models") {
      return Response.json({
        object: "list",
        data: [{ id: "instant", object: "model", created: 1_700_000_000, owned_by: "bench" }],
      });
    }
    if (request.method !== "POST") return new Response("not found", { status: 404 });
    const body = (await request.json()) as { model?: string; stream?: boolean; input?: unknown };
    const model = body.model ?? "instant";
    if (path === "/embeddings") {
      const inputs = Array.isArray(body.input) ? body.input : [body.input];
      return Response.json({
        object: "list",
        data: inputs.map((_, index) => ({ object: "embedding", index, embedding: [0.1, 0.2, 0.3] })),
        model,
        usage: { prompt_tokens: 1, total_tokens: 1 },
      });
    }
    if (path !== "/chat/completions") return new Response("not found", { status: 404 });
    if (body.stream) {
      const sse =
        chunk(model, { role: "assistant", content: "" }, null) +
        chunk(model, { content: "ok" }, null) +
        chunk(model, {}, "stop") +
        "data: [DONE]\n\n";
      return new Response(sse, { headers: { "content-type": "text/event-stream" } });
    }
    return new Response(completion(model), { headers: { "content-type": "application/json" } });
  },
});

console.log(`instant upstream on http://127.0.0.1:${server.port}`);
