import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { headers } from "../../../shared/headers.ts";
import { randomNonce, sha256Hex, sign } from "../../../shared/signing.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
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
async function postFeedback(tenant: string, body: unknown): Promise<Response> {
  const path = "/internal/v1/feedback";
  const text = JSON.stringify(body);
  const timestamp = Date.now();
  const nonce = randomNonce();
  const signature = await sign(config.POOL_SIGNING_SECRET, {
    method: "POST",
    path,
    timestamp,
    nonce,
    bodySha256: await sha256Hex(text),
  });
  return fetch(`http://${config.POOL_HOST}:${config.POOL_PORT}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [headers.tenant]: tenant,
      [headers.timestamp]: String(timestamp),
      [headers.nonce]: nonce,
      [headers.signature]: signature,
    },
    body: text,
  });
}

beforeAll(async () => {
  await poolService.start();
});
afterAll(async () => {
  await clickhouse.close();
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

    const up = await postFeedback(tenant, { request_id: good.request_id, rating: 1 });
    expect(up.status).toBe(202);
    const down = await postFeedback(tenant, {
      request_id: bad.request_id,
      label: "wrong",
      comment: "made up",
    });
    expect(down.status).toBe(202);
    // Feedback on a request without an event is stored but joins nothing.
    expect((await postFeedback(tenant, { request_id: `req-${randomUUID()}`, rating: -1 })).status).toBe(202);

    const window = await eventually(async () => {
      const sample = await readWindowSample(clickhouse, {
        tier,
        modelVersion: "v1",
        fromMs: ts - 1_000,
        toMs: ts + 1_000,
      });
      return sample.requests === 2 && sample.labelled === 2 ? sample : undefined;
    }, 60_000);
    expect(window).toMatchObject({ requests: 2, labelled: 2, correct: 1 });
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
