import { eq, inArray } from "drizzle-orm";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { catalogModels, modelVersions, registryTiers } from "../../../workers/db/schema.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { addCatalogModel } from "../../../workers/registry/catalog-store.ts";
import { addVersion, loadRoutingTable, type NewVersion, promote } from "../../../workers/registry/store.ts";
import { startAzureOpenAIServer } from "../../stack/conformance/azure-openai.ts";
import { startGeminiServer } from "../../stack/conformance/gemini.ts";
import type { ConformanceServer } from "../../stack/conformance/server.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { type ExtraEdge, startWranglerEdge } from "../edge/wrangler-edge.ts";
import { eventually } from "./harness.ts";
import { startTestPool, type TestPool } from "./pool-harness.ts";

// Catalog models of their own (unique names), so the shared registry's tiers are untouched.
const stamp = Date.now();
const mixed = `fo-mixed-${stamp}`;
const backed = `fo-backed-${stamp}`;
const native = `fo-native-${stamp}`;
const keys = { PROVIDER_API_KEYS: "fo-gemini=gk-pool,fo-azure=zk-pool" };
const config = workerEnvSchema.parse({ ...localPoolEnv(), ...keys });
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
let gemini: ConformanceServer;
let azure: ConformanceServer;
let pool: TestPool;
let sdk: OpenAI;
let edge: ExtraEdge;
let viaEdge: OpenAI;

async function catalogModel(name: string, autoTier: string | null, endpoints: NewVersion["endpoints"]) {
  await addCatalogModel(
    database.db,
    { name, aliases: [], autoTier, contextWindow: 8_000, capabilities: [] },
    "test",
  );
  await addVersion(database.db, { tier: name, version: `${name}@1`, endpoints }, "test");
  await promote(database.db, { tier: name, version: `${name}@1`, actor: "test", reason: "field rules test" });
}

beforeAll(async () => {
  [gemini, azure] = await Promise.all([
    startGeminiServer("gk-pool"),
    startAzureOpenAIServer("zk-pool", ["gpt"]),
  ]);
  // Weighted so the Gemini endpoint is the balancer's first choice whenever it is a candidate.
  const geminiEndpoint = {
    baseURL: gemini.url,
    model: "gemini-test",
    provider: "gemini" as const,
    apiKeyName: "fo-gemini",
    weight: 1_000,
    completions: false,
  };
  const azureEndpoint = {
    baseURL: azure.url,
    model: "gpt",
    provider: "azure-openai" as const,
    apiKeyName: "fo-azure",
    weight: 0.001,
    completions: false,
  };
  await catalogModel(mixed, null, [geminiEndpoint, azureEndpoint]);
  // Backed by the stack's `large` tier: the local OpenAI-compatible model server.
  await catalogModel(backed, "large", [geminiEndpoint]);
  await catalogModel(native, null, [geminiEndpoint]);
  pool = await startTestPool(18_187, { REGISTRY_POLL_MS: "200", ...keys });
  // The official SDK against the pool, each call signed as the edge signs it.
  sdk = new OpenAI({
    apiKey: "signed-by-the-harness",
    baseURL: `${pool.url}/internal/v1`,
    maxRetries: 0,
    fetch: (url, init) => pool.call("POST", new URL(String(url)).pathname, JSON.parse(String(init?.body))),
  });
  // And through an edge of this checkout (workerd) in front of that pool, with a key of its own.
  edge = await startWranglerEdge("edge-field-rules", 8_857, { POOL_REGIONS: `local=${pool.url}` });
  const { key } = await createTestApiKey(`field-rules-${stamp}`);
  viaEdge = new OpenAI({ apiKey: key, baseURL: `${edge.url}/v1`, maxRetries: 0, timeout: 60_000 });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await pool?.stop();
  await Promise.all([gemini?.stop(), azure?.stop()]);
  const names = [mixed, backed, native];
  await database.db.delete(catalogModels).where(inArray(catalogModels.name, names));
  await database.db.delete(modelVersions).where(inArray(modelVersions.tier, names));
  for (const name of names) await database.db.delete(registryTiers).where(eq(registryTiers.name, name));
  await database.close();
});

const hello = { max_tokens: 8, messages: [{ role: "user" as const, content: "hello fields" }] };

/** Waits until the pool's registry poll has loaded the model. */
const loaded = (model: string) =>
  eventually(async () => {
    const r = await pool.call("POST", "/internal/v1/chat/completions", { ...hello, model });
    return r.status === 404 ? undefined : r;
  });

describe("per-provider field rules and failover through a real pool", () => {
  it("the catalog models load with their providers", async () => {
    const table = await loadRoutingTable(database.db, config);
    expect(table.models?.find((m) => m.name === mixed)?.endpoints.map((e) => e.provider)).toEqual([
      "gemini",
      "azure-openai",
    ]);
    expect(table.tiers.some((t) => t.name === "large")).toBe(true);
  });

  it("logprobs: the refusing Gemini primary is skipped for Azure, and the answer carries logprobs", async () => {
    await loaded(mixed);
    const before = gemini.seen.length;
    const { data, response } = await sdk.chat.completions
      .create({ ...hello, model: mixed, logprobs: true, top_logprobs: 2 })
      .withResponse();
    expect(response.headers.get(headers.provider)).toBe("azure-openai");
    expect(response.headers.get(headers.fallbackReason)).toMatch(/#0:refuses=logprobs$/);
    const content = data.choices[0]?.logprobs?.content ?? [];
    expect(content.length).toBeGreaterThan(0);
    expect(content[0]?.top_logprobs).toHaveLength(2);
    expect(data.choices[0]?.message.content).toBe("Echo: hello fields");
    // Skipped before any attempt: the refusing provider never received the request.
    expect(gemini.seen.length).toBe(before);
  });

  it("logprobs: a Gemini-only model falls back across providers to the local OpenAI-compatible server", async () => {
    await loaded(backed);
    const { data, response } = await sdk.chat.completions
      .create({ ...hello, model: backed, logprobs: true })
      .withResponse();
    expect(response.headers.get(headers.provider)).toBe("openai-compatible");
    expect(response.headers.get(headers.tier)).toBe("large");
    expect(response.headers.get(headers.fallbackReason)).toMatch(/#0:refuses=logprobs$/);
    expect(data.choices[0]?.message.content?.length).toBeGreaterThan(0);
  });

  it("no endpoint can honour the field: a 400 naming it and the provider that refused it", async () => {
    await loaded(native);
    const error = await sdk.chat.completions
      .create({ ...hello, model: native, logprobs: true, stream: true })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    const bad = error as InstanceType<typeof OpenAI.BadRequestError>;
    expect(bad.param).toBe("logprobs");
    expect(bad.message).toContain("'logprobs' (refused by gemini)");
    expect(bad.error).toMatchObject({ type: "invalid_request_error" });
  });

  it("dropped fields: 200, named in the header, and absent from what the provider received", async () => {
    const before = gemini.seen.length;
    const { data, response } = await sdk.chat.completions
      .create({
        ...hello,
        model: native,
        user: "user-5521",
        metadata: { team: "team-5521" },
        store: false,
        prompt_cache_key: "cache-5521",
        seed: 11,
      })
      .withResponse();
    expect(response.status).toBe(200);
    expect(response.headers.get(headers.provider)).toBe("gemini");
    expect(response.headers.get(headers.droppedFields)).toBe("user,metadata,store,prompt_cache_key");
    expect(data.choices[0]?.message.content).toBe("Echo: hello fields");
    const sent = gemini.seen.slice(before).map((s) => s.body);
    expect(sent).toHaveLength(1);
    expect(sent[0]).not.toContain("5521");
    expect(JSON.parse(sent[0] ?? "{}")).toMatchObject({ generationConfig: { seed: 11 } });

    const plain = await sdk.chat.completions.create({ ...hello, model: native, seed: 11 }).withResponse();
    expect(plain.response.headers.get(headers.droppedFields)).toBeNull();
  });

  it("through the edge: the dropped-fields header reaches the client, and a refused field is a 400", async () => {
    await loaded(native);
    const marker = `edge ${crypto.randomUUID()}`;
    const { data, response } = await viaEdge.chat.completions
      .create({ ...hello, model: native, user: "edge-user", messages: [{ role: "user", content: marker }] })
      .withResponse();
    expect(response.headers.get(headers.cache)).not.toBe("HIT");
    expect(response.headers.get(headers.droppedFields)).toBe("user");
    expect(data.choices[0]?.message.content).toBe(`Echo: ${marker}`);
    const error = await viaEdge.chat.completions
      .create({ ...hello, model: native, n: 2, stream: true, stream_options: { include_usage: true } })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).param).toBe("n");
  });
});
