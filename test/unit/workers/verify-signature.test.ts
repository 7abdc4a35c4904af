import { Hono } from "hono";
import { requestId } from "hono/request-id";
import { describe, expect, it, vi } from "vitest";
import { DependencyError } from "../../../shared/dependency-error.ts";
import { createErrorHandler } from "../../../shared/on-error.ts";
import { formatAllowedModels, signedHeaders as signCall } from "../../../shared/signing.ts";
import {
  authorizeCredential,
  type SignatureCheckOptions,
  verifySignature,
} from "../../../workers/pool/middleware/verify-signature.ts";
import { MemoryNonceStore, type NonceStore } from "../../../workers/pool/nonce-store.ts";
import type { PoolHonoEnv } from "../../../workers/pool/types.ts";

const secret = "s".repeat(40);
const previous = "p".repeat(40);
const adminSecret = "a".repeat(40);

function makeApp(overrides: Partial<SignatureCheckOptions> = {}) {
  const app = new Hono<PoolHonoEnv>();
  app.use(
    verifySignature({
      trafficSecrets: [secret, previous],
      adminSecrets: new Map([["ops", adminSecret]]),
      nonces: new MemoryNonceStore(),
      maxBodyBytes: 1024,
      ...overrides,
    }),
  );
  app.use(authorizeCredential((path) => path.startsWith("/internal/admin")));
  app.post("/internal/echo", (c) => c.text(c.var.rawBody));
  app.get("/internal/caller", (c) => c.json(c.var.caller));
  app.post("/internal/json", async (c) => c.json({ parsed: await c.req.json(), text: await c.req.text() }));
  app.post("/internal/admin/run", (c) => c.json({ actor: c.var.caller.credential }));
  app.onError(createErrorHandler<PoolHonoEnv>("test"));
  return app;
}

/** Every trusted header, as the edge sends them for an authenticated request. */
const trusted = {
  "x-request-id": "req_abc",
  "x-tiergate-tenant": "tenant-a",
  "x-tiergate-key-id": "key_1",
  "x-tiergate-allowed-models": formatAllowedModels(["small"]),
  "x-tiergate-deadline": "1999999999999",
  traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
};

async function signedHeaders(
  body: string,
  overrides: {
    timestamp?: number;
    nonce?: string;
    path?: string;
    headers?: Record<string, string>;
    secret?: string;
    credential?: string;
  } = {},
) {
  return signCall(overrides.secret ?? secret, {
    method: "POST",
    pathAndQuery: overrides.path ?? "/internal/echo",
    body,
    headers: overrides.headers ?? {},
    ...(overrides.timestamp !== undefined ? { timestamp: overrides.timestamp } : {}),
    ...(overrides.nonce !== undefined ? { nonce: overrides.nonce } : {}),
    ...(overrides.credential !== undefined ? { credential: overrides.credential } : {}),
  });
}

async function errorCode(response: Response): Promise<string> {
  return ((await response.json()) as { error: { code: string } }).error.code;
}

describe("pool signature check", () => {
  it("binds the call's request id and signed tenant to c.var.log", async () => {
    const app = new Hono<PoolHonoEnv>();
    app.use(requestId({ headerName: "x-request-id" }));
    app.use(
      verifySignature({
        trafficSecrets: [secret],
        adminSecrets: new Map(),
        nonces: new MemoryNonceStore(),
        maxBodyBytes: 1024,
      }),
    );
    app.post("/internal/echo", (c) => {
      c.var.log.info("handled");
      return c.text("ok");
    });
    const lines: string[] = [];
    vi.spyOn(console, "log").mockImplementation((line: unknown) => {
      lines.push(String(line));
    });
    try {
      const response = await app.request("/internal/echo", {
        method: "POST",
        body: "hi",
        headers: await signedHeaders("hi", {
          headers: { "x-request-id": "req-pool-1", "x-tiergate-tenant": "acme" },
        }),
      });
      expect(response.status).toBe(200);
    } finally {
      vi.restoreAllMocks();
    }
    expect(lines.map((line) => JSON.parse(line))).toEqual([
      expect.objectContaining({ msg: "handled", service: "pool", request_id: "req-pool-1", tenant: "acme" }),
    ]);
  });

  it("accepts a correctly signed call and hands the raw body on", async () => {
    const app = makeApp();
    const response = await app.request("/internal/echo", {
      method: "POST",
      body: "hi",
      headers: await signedHeaders("hi"),
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe("hi");
  });

  it("leaves the verified body readable by later handlers and validators (c.req.json / text)", async () => {
    const app = makeApp();
    const body = JSON.stringify({ a: 1, s: "héllo" });
    const response = await app.request("/internal/json", {
      method: "POST",
      body,
      headers: {
        "content-type": "application/json",
        ...(await signedHeaders(body, { path: "/internal/json" })),
      },
    });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ parsed: { a: 1, s: "héllo" }, text: body });
  });

  it("rejects unsigned, tampered, stale, wrong-path and replayed calls with 401", async () => {
    const app = makeApp();
    const post = async (headers: Record<string, string>, body = "hi") =>
      (await app.request("/internal/echo", { method: "POST", body, headers })).status;
    expect(await post({})).toBe(401);
    expect(await post(await signedHeaders("hi"), "tampered")).toBe(401);
    expect(await post(await signedHeaders("hi", { timestamp: Date.now() - 120_000 }))).toBe(401);
    expect(await post(await signedHeaders("hi", { path: "/internal/other" }))).toBe(401);
    const once = await signedHeaders("hi");
    expect(await post(once)).toBe(200);
    expect(await post(once)).toBe(401);
  });

  it("signs every trusted header: altering, dropping or adding any of them unsigned gets 401", async () => {
    const app = makeApp();
    const post = async (headers: Record<string, string>) =>
      (await app.request("/internal/echo", { method: "POST", body: "hi", headers })).status;
    expect(await post(await signedHeaders("hi", { headers: trusted }))).toBe(200);
    for (const name of Object.keys(trusted)) {
      const altered = await signedHeaders("hi", { headers: trusted });
      altered[name] = name === "traceparent" ? trusted.traceparent.replace("b7ad", "c7ad") : "other";
      expect(await post(altered), `altered ${name}`).toBe(401);

      const dropped = await signedHeaders("hi", { headers: trusted });
      delete dropped[name];
      expect(await post(dropped), `dropped ${name}`).toBe(401);

      const unsigned = await signedHeaders("hi", { headers: {} });
      unsigned[name] = trusted[name as keyof typeof trusted];
      expect(await post(unsigned), `unsigned ${name}`).toBe(401);
    }
  });

  it("signs the raw query: changing, adding or removing it gets 401", async () => {
    const app = makeApp();
    const get = async (url: string, headers: Record<string, string>) =>
      (await app.request(url, { method: "GET", headers })).status;
    const sign = (pathAndQuery: string) =>
      signCall(secret, { method: "GET", pathAndQuery, body: "", headers: trusted });
    expect(await get("/internal/caller?tier=small", await sign("/internal/caller?tier=small"))).toBe(200);
    expect(await get("/internal/caller?tier=large", await sign("/internal/caller?tier=small"))).toBe(401);
    expect(await get("/internal/caller?tier=small", await sign("/internal/caller"))).toBe(401);
    expect(await get("/internal/caller", await sign("/internal/caller?tier=small"))).toBe(401);
  });

  it("hands the route the caller from the signed headers only", async () => {
    const app = makeApp();
    const headers = await signCall(secret, {
      method: "GET",
      pathAndQuery: "/internal/caller",
      body: "",
      headers: trusted,
    });
    const response = await app.request("/internal/caller", { method: "GET", headers });
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({
      kind: "traffic",
      credential: "edge",
      tenant: "tenant-a",
      keyId: "key_1",
      allowedModels: ["small"],
      deadline: 1999999999999,
      traceparent: trusted.traceparent,
    });
  });

  it("accepts the previous secret during a rotation, and nothing else", async () => {
    const app = makeApp();
    const post = async (headers: Record<string, string>) =>
      (await app.request("/internal/echo", { method: "POST", body: "hi", headers })).status;
    expect(await post(await signedHeaders("hi", { secret: previous }))).toBe(200);
    expect(await post(await signedHeaders("hi", { secret: "o".repeat(40) }))).toBe(401);
    // After the rotation the previous secret is removed from the pool's list: it stops working.
    const rotated = makeApp({ trafficSecrets: [secret] });
    const status = (
      await rotated.request("/internal/echo", {
        method: "POST",
        body: "hi",
        headers: await signedHeaders("hi", { secret: previous }),
      })
    ).status;
    expect(status).toBe(401);
  });

  it("admin paths need an admin credential, whose name is the actor; traffic paths refuse it", async () => {
    const app = makeApp();
    const run = (headers: Record<string, string>) =>
      app.request("/internal/admin/run", { method: "POST", body: "{}", headers });
    const byTraffic = await run(await signedHeaders("{}", { path: "/internal/admin/run" }));
    expect(byTraffic.status).toBe(403);
    expect(await errorCode(byTraffic)).toBe("admin_required");
    const byAdmin = await run(
      await signedHeaders("{}", { path: "/internal/admin/run", secret: adminSecret, credential: "ops" }),
    );
    expect(byAdmin.status).toBe(200);
    expect(await byAdmin.json()).toEqual({ actor: "ops" });
    // The admin's name with the traffic secret, or an unknown name, is no credential at all.
    const forged = await run(await signedHeaders("{}", { path: "/internal/admin/run", credential: "ops" }));
    expect(forged.status).toBe(401);
    const unknown = await run(
      await signedHeaders("{}", { path: "/internal/admin/run", secret: adminSecret, credential: "root" }),
    );
    expect(unknown.status).toBe(401);
    const trafficByAdmin = await app.request("/internal/echo", {
      method: "POST",
      body: "hi",
      headers: await signedHeaders("hi", { secret: adminSecret, credential: "ops" }),
    });
    expect(trafficByAdmin.status).toBe(403);
  });
});

describe("body limit before the signature", () => {
  it("refuses a declared oversized body with 413 without reading a byte of it", async () => {
    const app = makeApp();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        controller.enqueue(new Uint8Array(512));
      },
    });
    const headers = { ...(await signedHeaders("x")), "content-length": String(10 * 1024 * 1024) };
    const response = await app.request("/internal/echo", {
      method: "POST",
      body,
      headers,
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(await errorCode(response)).toBe("payload_too_large");
    expect(pulled).toBeLessThanOrEqual(1);
  });

  it("stops reading a body without content-length as soon as it passes the limit (413)", async () => {
    const app = makeApp();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1_000) controller.close();
        else controller.enqueue(new Uint8Array(256));
      },
    });
    const response = await app.request("/internal/echo", {
      method: "POST",
      body,
      headers: await signedHeaders("x"),
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    // 1,024 bytes is four 256-byte chunks: reading stopped at the fifth, not after 1,000.
    expect(pulled).toBeLessThan(10);
  });

  it("reads a body that declares its length in one go, byte for byte", async () => {
    const app = makeApp();
    const body = "héllo wörld ✓";
    const response = await app.request("/internal/echo", {
      method: "POST",
      body,
      headers: { ...(await signedHeaders(body)), "content-length": String(Buffer.byteLength(body)) },
    });
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(body);
  });

  it("refuses a body longer than the length it declared once it passes the limit (413)", async () => {
    const app = makeApp();
    const body = "x".repeat(2_000);
    const response = await app.request("/internal/echo", {
      method: "POST",
      body,
      headers: { ...(await signedHeaders(body)), "content-length": "2" },
    });
    expect(response.status).toBe(413);
    expect(await errorCode(response)).toBe("payload_too_large");
  });

  it("a body with transfer-encoding is read chunk by chunk and cut at the limit whatever its length says", async () => {
    const app = makeApp();
    let pulled = 0;
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        pulled++;
        if (pulled > 1_000) controller.close();
        else controller.enqueue(new Uint8Array(256));
      },
    });
    const response = await app.request("/internal/echo", {
      method: "POST",
      body,
      headers: { ...(await signedHeaders("x")), "content-length": "10", "transfer-encoding": "chunked" },
      duplex: "half",
    } as RequestInit);
    expect(response.status).toBe(413);
    expect(pulled).toBeLessThan(10);
  });

  it("an unsigned oversized call is a 401 before its size is even looked at", async () => {
    const app = makeApp();
    const response = await app.request("/internal/echo", { method: "POST", body: "x".repeat(4096) });
    expect(response.status).toBe(401);
  });
});

describe("nonce store", () => {
  it("fails closed with a retryable 503 when the store cannot answer", async () => {
    const down: NonceStore = {
      claim: () => Promise.reject(new DependencyError("redis", true, "connection refused")),
      close: () => undefined,
    };
    const app = makeApp({ nonces: down });
    const response = await app.request("/internal/echo", {
      method: "POST",
      body: "hi",
      headers: await signedHeaders("hi"),
    });
    expect(response.status).toBe(503);
    expect(response.headers.get("retry-after")).toBe("1");
    expect(await errorCode(response)).toBe("upstream_unavailable");
  });

  it("the in-memory store sweeps a bounded number of expired nonces per claim and stays bounded", async () => {
    let now = 0;
    const store = new MemoryNonceStore(500, () => now);
    for (let i = 0; i < 500; i++) expect(await store.claim(`n${i}`, 1_000)).toBe(true);
    expect(await store.claim("n1", 1_000)).toBe(false);
    await expect(store.claim("full", 1_000)).rejects.toBeInstanceOf(DependencyError);
    now = 2_000;
    // Each claim removes at most 64 expired entries.
    expect(await store.claim("after", 1_000)).toBe(true);
    expect(store.size).toBe(500 - 64 + 1);
    for (let i = 0; i < 10; i++) await store.claim(`later${i}`, 1_000);
    expect(store.size).toBe(11);
    // An expired nonce is gone: it can be claimed again (its timestamp is stale by then anyway).
    expect(await store.claim("n499", 1_000)).toBe(true);
  });
});
