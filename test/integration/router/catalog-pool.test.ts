import { eq, inArray } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { catalogModels, modelVersions, registryTiers } from "../../../workers/db/schema.ts";
import { workerEnvSchema } from "../../../workers/pool/env.ts";
import { addCatalogModel, catalogRows } from "../../../workers/registry/catalog-store.ts";
import { addVersion, loadRoutingTable, promote } from "../../../workers/registry/store.ts";
import { startAnthropicServer } from "../../stack/conformance/anthropic.ts";
import type { ConformanceServer } from "../../stack/conformance/server.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { eventually } from "./harness.ts";
import { startTestPool, type TestPool } from "./pool-harness.ts";

// Catalog models of their own (unique names), so the shared registry's tiers are untouched.
const stamp = Date.now();
const chatModel = `house-chat-${stamp}`;
const plainModel = `house-plain-${stamp}`;
const keys = { PROVIDER_API_KEYS: "conformance-anthropic=sk-ant-pool" };
const config = workerEnvSchema.parse({ ...localPoolEnv(), ...keys });
const database = createDatabase({ databaseUrl: config.DATABASE_URL, wsProxy: config.NEON_WS_PROXY });
let anthropic: ConformanceServer;
let pool: TestPool;

beforeAll(async () => {
  anthropic = await startAnthropicServer("sk-ant-pool");
  const claude = {
    baseURL: anthropic.url,
    model: "claude-test",
    provider: "anthropic" as const,
    apiKeyName: "conformance-anthropic",
    weight: 0.001,
  };
  // The primary: an OpenAI-compatible endpoint nothing listens on, weighted so it is tried first.
  const dead = { baseURL: "http://127.0.0.1:1/v1", model: "gpt-dead", weight: 1_000, completions: false };
  await addCatalogModel(
    database.db,
    {
      name: chatModel,
      aliases: [`${chatModel}-latest`],
      autoTier: null,
      contextWindow: 8_000,
      capabilities: ["tools"],
    },
    "test",
  );
  await addCatalogModel(
    database.db,
    { name: plainModel, aliases: [], autoTier: null, contextWindow: 8_000, capabilities: [] },
    "test",
  );
  await addVersion(
    database.db,
    { tier: chatModel, version: `${chatModel}@1`, endpoints: [dead, claude] },
    "test",
  );
  await addVersion(
    database.db,
    { tier: plainModel, version: `${plainModel}@1`, endpoints: [claude] },
    "test",
  );
  for (const name of [chatModel, plainModel]) {
    await promote(database.db, { tier: name, version: `${name}@1`, actor: "test", reason: "catalog test" });
  }
  pool = await startTestPool(18_113, { REGISTRY_POLL_MS: "200", ...keys });
});

afterAll(async () => {
  await pool?.stop();
  await anthropic?.stop();
  const names = [chatModel, plainModel];
  await database.db.delete(catalogModels).where(inArray(catalogModels.name, names));
  await database.db.delete(modelVersions).where(inArray(modelVersions.tier, names));
  for (const name of names) await database.db.delete(registryTiers).where(eq(registryTiers.name, name));
  await database.close();
});

const chat = (model: string, extra: Record<string, unknown> = {}) =>
  pool.call("POST", "/internal/v1/chat/completions", {
    model,
    max_tokens: 20,
    messages: [{ role: "user", content: "hello pool" }],
    ...extra,
  });

describe("the model catalog through a real pool", () => {
  it("loads catalog models from Postgres with capabilities stamped on their endpoints", async () => {
    const table = await loadRoutingTable(database.db, config);
    const model = table.models?.find((m) => m.name === chatModel);
    expect(model).toMatchObject({
      aliases: [`${chatModel}-latest`],
      contextWindow: 8_000,
      capabilities: ["tools"],
    });
    expect(model?.endpoints.map((e) => e.provider).sort()).toEqual(["anthropic", "openai-compatible"]);
    expect(table.tiers.some((t) => t.name === chatModel)).toBe(false);
    expect((await catalogRows(database.db)).map((r) => r.name)).toContain(plainModel);
  });

  it("a failing OpenAI-compatible primary falls over to the Anthropic endpoint, by alias, streamed and not", async () => {
    const response = await eventually(async () => {
      const r = await chat(`${chatModel}-latest`);
      return r.status === 404 ? undefined : r;
    });
    expect(response.status).toBe(200);
    expect(response.headers.get(headers.provider)).toBe("anthropic");
    expect(response.headers.get(headers.fallbackReason)).toMatch(/:connection/);
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(body.choices[0]?.message.content).toBe("Echo: hello pool");

    const streamed = await chat(chatModel, { stream: true, stream_options: { include_usage: true } });
    expect(streamed.headers.get(headers.provider)).toBe("anthropic");
    const text = await streamed.text();
    expect(text).toContain('"content":"Echo: "');
    expect(text).toContain('"completion_tokens":3');
    expect(text.trim().endsWith("data: [DONE]")).toBe(true);
  });

  it("a request with tools is refused for a model without tool support, and served by one with it", async () => {
    const tools = [{ type: "function", function: { name: "get_weather", parameters: { type: "object" } } }];
    await eventually(async () => ((await chat(plainModel)).status === 200 ? true : undefined));
    const refused = await chat(plainModel, { tools });
    expect(refused.status).toBe(400);
    expect(await refused.text()).toContain("tools");
    const served = await chat(chatModel, { tools });
    expect(served.status).toBe(200);
    const body = (await served.json()) as { choices: { finish_reason: string }[] };
    expect(body.choices[0]?.finish_reason).toBe("tool_calls");
  });

  it("/v1/models lists the catalog's names and aliases", async () => {
    const list = (await (await pool.call("GET", "/internal/v1/models")).json()) as { data: { id: string }[] };
    expect(list.data.map((m) => m.id)).toEqual(
      expect.arrayContaining([chatModel, `${chatModel}-latest`, plainModel]),
    );
  });
});
