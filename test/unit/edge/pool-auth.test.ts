import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { PoolClient } from "../../../edge/services/pool-client.ts";
import { parseSignatureHeader } from "../../../shared/signing.ts";
import { chatInit, FakePool, unitEnv } from "./fake-pool.ts";

const primary = new FakePool();
const secondary = new FakePool();
let a = "";
let b = "";

beforeAll(async () => {
  a = await primary.start();
  b = await secondary.start();
});
afterAll(async () => {
  await primary.stop();
  await secondary.stop();
});

const body = { model: "auto", messages: [{ role: "user", content: "hello" }] };
const secret = "x".repeat(32);
const chatCall = () => ({
  method: "POST" as const,
  path: "/internal/v1/chat/completions",
  body: JSON.stringify(body),
  requestId: `rid-${crypto.randomUUID()}`,
  tenant: "unit-tenant",
  keyId: "key_1",
  allowedModels: ["small"],
  deadline: Date.now() + 5_000,
});

function reset(modeA: FakePool["mode"], modeB: FakePool["mode"] = { kind: "json" }) {
  primary.mode = modeA;
  secondary.mode = modeB;
  primary.chatCalls = 0;
  secondary.chatCalls = 0;
}

describe("a region that refuses the signature (401)", () => {
  it("is a region failure: the call fails over to the next region and the 401 counts unhealthy", async () => {
    reset({ kind: "status", status: 401 });
    const client = new PoolClient(
      [
        { name: "a", url: a },
        { name: "b", url: b },
      ],
      secret,
    );
    const result = await client.forward(chatCall());
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.region).toBe("b");
    expect(result.response.status).toBe(200);
    await result.response.text();
    result.settle(false);
    expect(primary.chatCalls).toBe(1);
    expect(secondary.chatCalls).toBe(1);
    const health = client.health.snapshot();
    expect(health.a?.consecutiveFailures).toBe(1);
    expect(health.a?.errorRate).toBeGreaterThan(0);
    expect(health.b?.consecutiveFailures).toBe(0);
  });

  it("repeated 401s open the region's circuit, like any other failure", async () => {
    reset({ kind: "status", status: 401 });
    const client = new PoolClient([{ name: "a", url: a }], secret, {
      attemptTimeoutMs: 5_000,
      breaker: { failures: 2, openMs: 60_000 },
    });
    for (let i = 0; i < 2; i++) expect((await client.forward(chatCall())).ok).toBe(false);
    expect(client.health.isOpen("a")).toBe(true);
    // One-shot calls (scripts, cron) count it as a failure too.
    const other = new PoolClient([{ name: "a", url: a }], secret);
    const response = await other.call(chatCall());
    expect(response.status).toBe(401);
    expect(other.health.snapshot().a?.consecutiveFailures).toBe(1);
  });

  it("never reaches the client: with every region refusing, the client gets the fallback, not a 401", async () => {
    reset({ kind: "status", status: 401 }, { kind: "status", status: 401 });
    const app = createEdgeApp();
    const response = await app.request("/v1/chat/completions", chatInit(body), unitEnv(`a=${a},b=${b}`));
    expect(response.status).toBe(503);
    expect(response.headers.get("x-fallback")).toBe("upstream_error");
    expect(primary.chatCalls + secondary.chatCalls).toBe(2);
  });
});

describe("what the edge signs", () => {
  it("sends the tenant context, allowed models, trace context and client id signed, each named in SignedHeaders", async () => {
    reset({ kind: "json" });
    const app = createEdgeApp();
    const traceparent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
    const response = await app.request(
      "/v1/chat/completions",
      chatInit(body, { traceparent, "x-request-id": "rid-signed" }),
      unitEnv(`a=${a}`),
    );
    expect(response.status).toBe(200);
    const sent = primary.lastHeaders;
    expect(sent.traceparent).toBe(traceparent);
    expect(sent["x-tiergate-allowed-models"]).toBe("*");
    expect(sent["x-tiergate-client-request-id"]).toBe("rid-signed");
    const signature = parseSignatureHeader(String(sent["x-tiergate-signature"]));
    expect(signature?.credential).toBe("edge");
    expect(signature?.signedHeaders).toEqual([
      "traceparent",
      "x-request-id",
      "x-tiergate-allowed-models",
      "x-tiergate-client-request-id",
      "x-tiergate-deadline",
      "x-tiergate-key-id",
      "x-tiergate-tenant",
    ]);
  });

  it("does not forward a malformed traceparent", async () => {
    reset({ kind: "json" });
    const app = createEdgeApp();
    await app.request(
      "/v1/chat/completions",
      chatInit(body, { traceparent: "00-zz-not-a-trace" }),
      unitEnv(`a=${a}`),
    );
    expect(primary.lastHeaders.traceparent).toBeUndefined();
  });
});
