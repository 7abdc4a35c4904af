import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { abstentions } from "../../../shared/schemas/answer.ts";
import { DocumentStore } from "../../../workers/backfill/document-store.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { edgeService, poolService } from "../../stack/gateway.ts";
import { repoRoot } from "../../stack/paths.ts";
import { localClickHouse } from "../../stack/services/clickhouse.ts";
import { localModelServer } from "../../stack/services/model-server.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";
import { dropTenantRag, ingestDemoCorpus } from "./demo-corpus.ts";

const tenant = `answer-gate-${Date.now()}`;
const ch = localClient(localClickHouse.database, 60_000);
let apiKey = "";

/** The corpus states no price anywhere: every answer to this is withheld (claims, kind or terms). */
const priceQuestion = "What is the price in euros of the response cache?";

function post(path: string, body: Record<string, unknown>): Promise<Response> {
  return fetch(`${edgeService.url}${path}`, {
    method: "POST",
    headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
    body: JSON.stringify(body),
  });
}

async function chatModelRuns(): Promise<number> {
  const text = await (await fetch(`${localModelServer.baseURL.replace(/\/v1$/, "")}/metrics`)).text();
  let runs = 0;
  for (const m of text.matchAll(/^vllm:e2e_request_latency_seconds_count\{model_name="([^"]+)"\} (\d+)/gm)) {
    if (m[1] !== localModelServer.embeddingModel) runs += Number(m[2]);
  }
  return runs;
}

/** The content deltas of an SSE chat stream, joined. */
function streamedContent(sse: string): string {
  return sse
    .split("\n")
    .filter((line) => line.startsWith("data: {"))
    .map((line) => JSON.parse(line.slice(6)) as { choices: { delta?: { content?: string } }[] })
    .map((chunk) => chunk.choices[0]?.delta?.content ?? "")
    .join("");
}

function calibrate(args: string[]) {
  return spawnSync(join(repoRoot, "node_modules/.bin/bun"), ["workers/scripts/rag-calibrate.ts", ...args], {
    cwd: repoRoot,
    env: {
      ...process.env,
      CLICKHOUSE_URL: localClickHouse.url,
      CLICKHOUSE_DATABASE: localClickHouse.database,
    },
    encoding: "utf8",
    timeout: 60_000,
  });
}

beforeAll(async () => {
  // The pool and the edge must run this checkout's code.
  await Promise.all([poolService.stop(), edgeService.stop()]);
  await Promise.all([poolService.start(), edgeService.start()]);
  apiKey = (await createTestApiKey(tenant)).key;
  await ingestDemoCorpus(ch, tenant);
});

afterAll(async () => {
  await dropTenantRag(ch, tenant);
  await ch.close();
});

describe("the answer gate on every RAG path", () => {
  it("/v1/answer withholds an answer the passages do not support, saying why", async () => {
    const before = await chatModelRuns();
    const response = await post("/v1/answer", {
      question: priceQuestion,
      collection: "docs",
      threshold: 0,
      max_tokens: 24,
    });
    expect(response.status).toBe(200);
    const body = (await response.json()) as {
      rule: string;
      answer: string;
      gate?: { reason: string; unsupported_spans: string[] };
      citations: unknown[];
    };
    expect(body.rule).toBe("unsupported_answer");
    expect(body.answer).toBe(abstentions.below_threshold);
    expect(["sentinel", "unsupported_claims", "answer_type", "question_terms"]).toContain(body.gate?.reason);
    expect(body.citations.length).toBeGreaterThan(0);
    expect(await chatModelRuns()).toBeGreaterThan(before); // a model generated, the gate withheld it
  });

  it("chat with rag withholds it too, without streaming", async () => {
    const response = await post("/v1/chat/completions", {
      model: "auto",
      temperature: 0,
      max_tokens: 24,
      rag: { collection: "docs", threshold: 0 },
      messages: [{ role: "user", content: priceQuestion }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("x-tiergate-rag-rule")).toBe("unsupported_answer");
    const body = (await response.json()) as {
      choices: { message: { content: string } }[];
      rag_gate?: { reason: string };
    };
    expect(body.choices[0]?.message.content).toBe(abstentions.below_threshold);
    expect(body.rag_gate?.reason).toBeDefined();
  });

  it("a streamed RAG answer is checked before its first token: only the abstention goes out", async () => {
    const before = await chatModelRuns();
    const response = await post("/v1/chat/completions", {
      model: "auto",
      temperature: 0,
      // Not the non-streamed request's body: the edge's response cache must not answer this one.
      max_tokens: 26,
      stream: true,
      rag: { collection: "docs", threshold: 0 },
      messages: [{ role: "user", content: priceQuestion }],
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    expect(response.headers.get("x-tiergate-rag-rule")).toBe("unsupported_answer");
    const text = await response.text();
    expect(streamedContent(text)).toBe(abstentions.below_threshold);
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
    expect(await chatModelRuns()).toBeGreaterThan(before);
  });
});

describe("rag:calibrate stores a collection's threshold", () => {
  it("writes the threshold to rag_collections, keeping the active embedding version", async () => {
    const store = new DocumentStore(ch);
    const key = { tenant, collection: "docs" };
    const before = await store.collection(key);
    const run = calibrate(["--tenant", tenant, "--collection", "docs", "--threshold", "0.61"]);
    expect(run.status, run.stderr).toBe(0);
    const after = await store.collection(key);
    expect(after?.threshold).toBeCloseTo(0.61, 5);
    expect(after?.activeModelVersion).toBe(before?.activeModelVersion);
  });

  it("refuses an unknown collection and an out-of-range threshold", () => {
    const unknown = calibrate(["--tenant", tenant, "--collection", "missing", "--threshold", "0.5"]);
    expect(unknown.status).toBe(1);
    expect(unknown.stderr).toContain("does not exist");
    const range = calibrate(["--tenant", tenant, "--collection", "docs", "--threshold", "1.5"]);
    expect(range.status).toBe(64);
  });
});
