import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abstentions } from "../../../shared/schemas/answer.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { edgeService, poolService } from "../../stack/gateway.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { localModelServer, modelServerService } from "../../stack/services/model-server.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";
import { createEmptyCollection, dropTenantRag, ingestDemoCorpus } from "./demo-corpus.ts";

const tenant = `chat-rag-${Date.now()}`;
const ch = localClient(localClickHouse.database, 60_000);
let apiKey = "";

function chat(body: Record<string, unknown>): Promise<Response> {
  return fetch(`${edgeService.url}/v1/chat/completions`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify({ model: "auto", temperature: 0, max_tokens: 8, ...body }),
  });
}

/** Requests the model server has finished, chat models and the embeddings model apart. */
async function modelServerCounts(): Promise<{ chat: number; embed: number }> {
  const text = await (await fetch(`${localModelServer.baseURL.replace(/\/v1$/, "")}/metrics`)).text();
  const counts = { chat: 0, embed: 0 };
  for (const match of text.matchAll(
    /^vllm:e2e_request_latency_seconds_count\{model_name="([^"]+)"\} (\d+)/gm,
  )) {
    const value = Number(match[2]);
    if (match[1] === localModelServer.embeddingModel) counts.embed += value;
    else counts.chat += value;
  }
  return counts;
}

beforeAll(async () => {
  // The pool and the edge must run this checkout's code.
  await Promise.all([poolService.stop(), edgeService.stop()]);
  await Promise.all([poolService.start(), edgeService.start()]);
  apiKey = (await createTestApiKey(tenant)).key;
  await ingestDemoCorpus(ch, tenant);
  await createEmptyCollection(ch, tenant, "nothing-here");
});

afterAll(async () => {
  await modelServerService.start();
  await dropTenantRag(ch, tenant);
  await ch.close();
});

describe("RAG on chat completions (rag: {collection}) through the edge", () => {
  it("grounds an answerable question in the collection and returns citations", async () => {
    const response = await chat({
      rag: { collection: "docs" },
      messages: [{ role: "user", content: "Which requests does the edge cache?" }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-rag-rule")).toBe("generated");
    const body = (await response.json()) as {
      object: string;
      choices: { message: { content: string } }[];
      citations: { document_id: string; score: number }[];
    };
    expect(body.object).toBe("chat.completion");
    expect(body.citations[0]?.document_id).toBe("response-cache.md");
    expect(body.citations[0]?.score).toBeGreaterThanOrEqual(0.45);
  });

  it("abstains below the threshold and with nothing retrieved, without calling a chat model", async () => {
    const before = await modelServerCounts();
    const response = await chat({
      rag: { collection: "docs" },
      messages: [{ role: "user", content: "How do I bake sourdough bread at home?" }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-rag-rule")).toBe("below_threshold");
    const body = (await response.json()) as { model: string; choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe(abstentions.below_threshold);
    expect(body.model).toBe("tiergate-rag-abstention");

    const streamed = await chat({
      stream: true,
      rag: { collection: "nothing-here" },
      messages: [{ role: "user", content: "Anything?" }],
    });
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("x-tiergate-rag-rule")).toBe("no_context");
    const text = await streamed.text();
    expect(text).toContain(JSON.stringify(abstentions.no_context).slice(1, -1));
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);

    const after = await modelServerCounts();
    expect(after.embed).toBeGreaterThan(before.embed); // the question was embedded for retrieval…
    expect(after.chat).toBe(before.chat); // …but no chat model ran
  });

  it("answers 404 collection_not_found in the OpenAI error shape for a collection the tenant does not have", async () => {
    for (const stream of [false, true]) {
      const response = await chat({
        stream,
        rag: { collection: "no-such" },
        messages: [{ role: "user", content: "Anything?" }],
      });
      expect(response.status).toBe(404);
      const body = (await response.json()) as { error: Record<string, unknown> };
      expect(body.error).toMatchObject({
        type: "invalid_request_error",
        code: "collection_not_found",
        param: "collection",
        request_id: response.headers.get("x-request-id"),
      });
    }
  });

  it("abstains with retrieval_unavailable when the embeddings tier is down", async () => {
    await modelServerService.stop();
    try {
      const response = await chat({
        rag: { collection: "docs" },
        messages: [{ role: "user", content: "Which requests does the edge cache? (outage)" }],
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("x-tiergate-rag-rule")).toBe("retrieval_unavailable");
      const body = (await response.json()) as { choices: { message: { content: string } }[] };
      expect(body.choices[0]?.message.content).toBe(abstentions.no_context);
    } finally {
      await modelServerService.start();
    }
  });

  it("rejects a malformed rag field with 400 naming it", async () => {
    const response = await chat({
      rag: { collection: "bad name!" },
      messages: [{ role: "user", content: "x" }],
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { param: string } };
    expect(body.error.param).toBe("rag.collection");
  });
});
