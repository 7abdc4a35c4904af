import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { abstentions, answerResponseSchema } from "../../../shared/schemas/answer.ts";
import { signedHeaders } from "../../../shared/signing.ts";
import { poolService } from "../../stack/gateway.ts";
import { localSecrets } from "../../stack/ports.ts";
import { clickhouseService, localClickHouse } from "../../stack/services/clickhouse.ts";
import { modelServerService } from "../../stack/services/model-server.ts";
import { localClient } from "../clickhouse/local-clickhouse.ts";
import { createEmptyCollection, dropTenantRag, ingestDemoCorpus } from "./demo-corpus.ts";

const tenant = `rag-route-${randomUUID().slice(0, 8)}`;
const ch = localClient(localClickHouse.database, 60_000);
const path = "/internal/v1/answer";

async function ask(
  body: Record<string, unknown>,
  extra: Record<string, string> = {},
): Promise<{ status: number; json: unknown; requestId: string }> {
  const raw = JSON.stringify(body);
  const requestId = `req-${randomUUID()}`;
  const response = await fetch(`${poolService.url}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(await signedHeaders(localSecrets.poolSigningSecret, {
        method: "POST",
        pathAndQuery: path,
        body: raw,
        headers: {
          "x-request-id": requestId,
          "x-tiergate-tenant": tenant,
          "x-tiergate-deadline": String(Date.now() + 50_000),
          ...extra,
        },
      })),
    },
    body: raw,
  });
  return { status: response.status, json: await response.json(), requestId };
}

async function eventually<T>(probe: () => Promise<T | undefined>, timeoutMs = 45_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 250));
  }
}

beforeAll(async () => {
  // The pool must run this checkout's code.
  await poolService.stop();
  await poolService.start();
  await ingestDemoCorpus(ch, tenant);
  await createEmptyCollection(ch, tenant, "nothing-here");
});

afterAll(async () => {
  await Promise.all([clickhouseService.start(), modelServerService.start()]);
  await dropTenantRag(ch, tenant);
  await ch.close();
});

describe("POST /internal/v1/answer on the pool", () => {
  it("answers from the collection through the generation model, citing the chunks", async () => {
    const { status, json } = await ask({
      question: "Which requests does the edge cache?",
      collection: "docs",
      max_tokens: 8,
    });
    expect(status).toBe(200);
    const answer = answerResponseSchema.parse(json);
    expect(answer.rule).toBe("generated");
    expect(answer.model).not.toBeNull();
    expect(answer.answer.length).toBeGreaterThan(0);
    expect(answer.citations[0]?.document_id).toBe("response-cache.md");
    expect(answer.scores.best).toBeGreaterThanOrEqual(0.45);
  });

  it("a key limited to small is answered by the small tier, never large; one without a chat tier gets 403", async () => {
    const question = { question: "Which requests does the edge cache?", collection: "docs", max_tokens: 8 };
    const limited = await ask(question, { "x-tiergate-allowed-models": "=small" });
    expect(limited.status).toBe(200);
    const answer = answerResponseSchema.parse(limited.json);
    expect(answer.rule).toBe("generated");
    expect(answer.model).toBe("tiergate-small");
    const asksLarge = await ask({ ...question, model: "large" }, { "x-tiergate-allowed-models": "=small" });
    expect(asksLarge.status).toBe(403);
    expect(asksLarge.json).toMatchObject({ error: { code: "model_forbidden", type: "permission_error" } });
    const none = await ask(question, { "x-tiergate-allowed-models": "=embed" });
    expect(none.status).toBe(403);
    expect(none.json).toMatchObject({ error: { code: "model_forbidden", param: "model" } });
  });

  it("abstains below the threshold with the scores, and the request event records the rule", async () => {
    const { status, json, requestId } = await ask({
      question: "How do I bake sourdough bread at home?",
      collection: "docs",
    });
    expect(status).toBe(200);
    const answer = answerResponseSchema.parse(json);
    expect(answer).toMatchObject({
      rule: "below_threshold",
      answer: abstentions.below_threshold,
      model: null,
      usage: null,
    });
    expect(answer.scores.best).toBeLessThan(0.45);
    expect(answer.scores.threshold).toBeCloseTo(0.45);
    const event = await eventually(async () => {
      const rows = await ch.query(
        "SELECT route, fallback_reason, tenant FROM events FINAL WHERE request_id = {id:String}",
        { id: requestId },
        z.object({ route: z.string(), fallback_reason: z.string(), tenant: z.string() }),
      );
      return rows[0];
    });
    expect(event).toEqual({ route: "answer", fallback_reason: "below_threshold", tenant });
  });

  it("answers 404 collection_not_found in the OpenAI error shape for a collection the tenant does not have", async () => {
    const { status, json, requestId } = await ask({ question: "What is tiergate?", collection: "no-such" });
    expect(status).toBe(404);
    expect(json).toEqual({
      error: {
        message: "The collection 'no-such' does not exist.",
        type: "invalid_request_error",
        code: "collection_not_found",
        param: "collection",
        request_id: requestId,
      },
    });
  });

  it("shows the collection's threshold as the number that was set (stored as Float64)", async () => {
    const { json } = await ask({ question: "How do I bake sourdough bread at home?", collection: "docs" });
    expect(answerResponseSchema.parse(json).scores.threshold).toBe(0.45);
    const rows = await ch.query(
      `SELECT threshold, toTypeName(threshold) AS type FROM rag_collections FINAL
       WHERE tenant = {tenant:String} AND collection = 'docs'`,
      { tenant },
      z.object({ threshold: z.number(), type: z.string() }),
    );
    expect(rows).toEqual([{ threshold: 0.45, type: "Float64" }]);
  });

  it("answers 400 in the OpenAI error shape for bad input", async () => {
    const { status, json } = await ask({ collection: "docs" });
    expect(status).toBe(400);
    expect(json).toMatchObject({ error: { type: "invalid_request_error", param: "question" } });
  });

  it("abstains with no_context for an empty collection while the model server is down (no model call)", async () => {
    await modelServerService.stop();
    try {
      const { status, json } = await ask({ question: "What is tiergate?", collection: "nothing-here" });
      expect(status).toBe(200);
      expect(answerResponseSchema.parse(json)).toMatchObject({
        rule: "no_context",
        answer: abstentions.no_context,
        scores: { best: null, retrieved: 0 },
      });
    } finally {
      await modelServerService.start();
    }
  });

  it("abstains with retrieval_unavailable while ClickHouse is down", async () => {
    await clickhouseService.stop();
    try {
      const { status, json } = await ask({
        question: "Which requests does the edge cache?",
        collection: "docs",
      });
      expect(status).toBe(200);
      expect(answerResponseSchema.parse(json)).toMatchObject({
        rule: "retrieval_unavailable",
        answer: abstentions.no_context,
        citations: [],
        model: null,
      });
    } finally {
      await clickhouseService.start();
    }
  });
});
