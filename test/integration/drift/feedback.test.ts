import { randomUUID } from "node:crypto";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { headers } from "../../../shared/headers.ts";
import { signedHeaders } from "../../../shared/signing.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { requests } from "../../../workers/db/schema.ts";
import { FeedbackPublisher } from "../../../workers/drift/feedback-publisher.ts";
import { readWindowSample } from "../../../workers/drift/windows.ts";
import { createEventProducer } from "../../../workers/events/producer.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { poolService } from "../../stack/gateway.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { sampleEvent } from "../clickhouse/local-clickhouse.ts";
import { eventually } from "../router/harness.ts";

const config = workerEnvSchema.parse(localPoolEnv());
const clickhouse = createClickHouse(clickhouseConfig(config));

/** A signed pool call, as the edge makes it for POST /v1/feedback. */
function postFeedback(tenant: string, body: unknown): Promise<Response> {
  return signedPost("/internal/v1/feedback", tenant, body);
}

/** A signed POST to the pool, as the edge makes it. */
async function signedPost(
  path: string,
  tenant: string,
  body: unknown,
  extra: Record<string, string> = {},
): Promise<Response> {
  const text = JSON.stringify(body);
  return fetch(`http://${config.POOL_HOST}:${config.POOL_PORT}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(await signedHeaders(config.POOL_SIGNING_SECRET, {
        method: "POST",
        pathAndQuery: path,
        body: text,
        headers: { [headers.tenant]: tenant, ...extra },
      })),
    },
    body: text,
  });
}

const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });

beforeAll(async () => {
  await poolService.start();
});
afterAll(async () => {
  await clickhouse.close();
  await database.close();
});

describe("feedback pipeline", () => {
  it("feedback goes pool → Kafka → ingest → ClickHouse and the drift window joins it to its request", async () => {
    const tenant = `fb-${randomUUID().slice(0, 8)}`;
    const tier = `fb-tier-${randomUUID().slice(0, 8)}`;
    const ts = Date.now() - 60_000;
    const good = sampleEvent({ tenant, tier, model_version: "v1", ts, request_id: `req-${randomUUID()}` });
    const bad = sampleEvent({
      tenant,
      tier,
      model_version: "v1",
      ts: ts + 1,
      request_id: `req-${randomUUID()}`,
    });
    const producer = createEventProducer({
      brokers: config.KAFKA_BROKERS,
      spoolDir: `.stack/test-spool/feedback-${tenant}`,
    });
    producer.publish(good);
    producer.publish(bad);
    await producer.close();
    // The pool's own requests have rows in Postgres; feedback is accepted only from their tenant.
    await database.db.insert(requests).values(
      [good, bad].map((event) => ({
        requestId: event.request_id,
        tenantId: tenant,
        status: 200,
        latencyMs: 1,
      })),
    );
    // Another tenant's labels on these ids: refused at the door, and not joined if they got in anyway.
    const intruder = `fb-other-${randomUUID().slice(0, 8)}`;
    const foreign = await postFeedback(intruder, { request_id: good.request_id, label: "wrong" });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { param: "request_id" } });
    const publisher = new FeedbackPublisher({ brokers: config.KAFKA_BROKERS });
    await publisher.publish(
      [good, bad].map((event) => ({
        feedback_id: randomUUID(),
        ts: Date.now(),
        request_id: event.request_id,
        tenant: intruder,
        user_id: "",
        rating: -1,
        label: "wrong",
        comment: "",
      })),
    );
    await publisher.close();

    const up = await postFeedback(tenant, { request_id: good.request_id, rating: 1 });
    expect(up.status).toBe(202);
    const down = await postFeedback(tenant, {
      request_id: bad.request_id,
      label: "wrong",
      comment: "made up",
    });
    expect(down.status).toBe(202);
    // Feedback on a request that has no row (unknown id) is refused.
    expect((await postFeedback(tenant, { request_id: `req-${randomUUID()}`, rating: -1 })).status).toBe(404);

    // Once the intruder's labels are in ClickHouse too, the window still counts only the tenant's own.
    await eventually(async () => {
      const [row] = await clickhouse.query(
        "SELECT count() AS n FROM feedback FINAL WHERE tenant = {tenant:String}",
        { tenant: intruder },
        z.object({ n: z.coerce.number() }),
      );
      return row?.n === 2 ? true : undefined;
    }, 60_000);
    const window = await eventually(async () => {
      const sample = await readWindowSample(clickhouse, {
        tier,
        modelVersion: "v1",
        fromMs: ts - 1_000,
        toMs: ts + 1_000,
      });
      return sample.requests === 2 && sample.labelled >= 2 ? sample : undefined;
    }, 60_000);
    expect(window).toMatchObject({ requests: 2, labelled: 2, correct: 1 });
    expect(window?.feedbackByTenant).toEqual([{ tenant, requests: 2, labelled: 2, correct: 1 }]);
  });

  it("keeps the client's request id on the request row; feedback may name the request by it", async () => {
    const tenant = `fb-client-${randomUUID().slice(0, 8)}`;
    const clientId = `client:${randomUUID()}`;
    const answered = await signedPost(
      "/internal/v1/embeddings",
      tenant,
      { model: "tiergate-embed", input: "feedback by client id" },
      { [headers.poolClientRequestId]: clientId },
    );
    expect(answered.status).toBe(200);
    const serverId = answered.headers.get(headers.requestId) ?? "";
    const row = await eventually(async () => {
      const [found] = await database.db
        .select()
        .from(requests)
        .where(and(eq(requests.tenantId, tenant), eq(requests.clientRequestId, clientId)));
      return found;
    });
    expect(row?.requestId).toBe(serverId);
    const byClientId = await postFeedback(tenant, { client_request_id: clientId, rating: 1 });
    expect(byClientId.status).toBe(202);
    expect(await byClientId.json()).toMatchObject({ request_id: serverId, status: "accepted" });
    const foreign = await postFeedback(`${tenant}-other`, { client_request_id: clientId, rating: -1 });
    expect(foreign.status).toBe(404);
    expect(await foreign.json()).toMatchObject({ error: { param: "client_request_id" } });
  });

  it("bad feedback is a 400 in the OpenAI shape", async () => {
    const response = await postFeedback("fb-bad", { request_id: "req-1", rating: -3 });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({
      error: { type: "invalid_request_error", code: "bad_request", param: "rating" },
    });
  });

  it("with Kafka unreachable, publishing retries, each attempt bounded, then fails retryable (onError answers that 503 + Retry-After)", async () => {
    const retries: number[] = [];
    const publisher = new FeedbackPublisher({
      brokers: ["127.0.0.1:1"],
      attempts: 3,
      timeoutMs: 1_000,
      onRetry: (_error, attempt) => retries.push(attempt),
    });
    try {
      const error = await publisher
        .publish([
          {
            feedback_id: randomUUID(),
            ts: Date.now(),
            request_id: "req-1",
            tenant: "t",
            user_id: "",
            rating: 1,
            label: "",
            comment: "",
          },
        ])
        .then(
          () => undefined,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(DependencyError);
      expect(error).toMatchObject({ dependency: "kafka", retryable: true });
      expect(retries).toEqual([1, 2]);
    } finally {
      await publisher.close();
    }
  });
});
