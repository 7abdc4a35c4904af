import { type ChildProcess, spawn } from "node:child_process";
import { join } from "node:path";
import { eq, inArray } from "drizzle-orm";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { spendHeaders } from "../../../shared/schemas/spend.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { catalogModels, modelVersions, registryTiers } from "../../../workers/db/schema.ts";
import { addCatalogModel } from "../../../workers/registry/catalog-store.ts";
import { addVersion, promote } from "../../../workers/registry/store.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";
import { type ExtraEdge, startWranglerEdge } from "../edge/wrangler-edge.ts";
import { startTestPool, type TestPool } from "../router/pool-harness.ts";

/*
 * Responses passthrough through this checkout's edge (workerd) and pool, against a model server of
 * this checkout on a private port (it counts requests per path in /metrics: the proof of which upstream
 * API answered). Catalog models of their own: one whose endpoint is flagged `responses`, one not.
 */
const stamp = Date.now();
const nativeModel = `resp-native-${stamp}`;
const plainModel = `resp-plain-${stamp}`;
const deadNativeModel = `resp-dead-${stamp}`;
const modelServerPort = 18_161;
const upstream = `http://127.0.0.1:${modelServerPort}`;
const env = localPoolEnv();
const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
let modelServer: ChildProcess;
let pool: TestPool;
let edge: ExtraEdge;
let client: OpenAI;

async function startModelServer(): Promise<void> {
  modelServer = spawn(
    join(repoRoot, "node_modules/.bin/bun"),
    ["test/stack/model-server/server.ts", `--port=${modelServerPort}`, "--host=127.0.0.1"],
    { cwd: repoRoot, stdio: "ignore", env: process.env },
  );
  for (let i = 0; ; i++) {
    const ok = await fetch(`${upstream}/health`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) return;
    if (modelServer.exitCode !== null || i > 600) throw new Error("private model server did not start");
    await new Promise((r) => setTimeout(r, 200));
  }
}

async function addModel(name: string, capabilities: ["responses"] | [], baseURL: string): Promise<void> {
  await addCatalogModel(
    database.db,
    { name, aliases: [], autoTier: null, contextWindow: 2_048, capabilities },
    "test",
  );
  const endpoint = { baseURL, model: "tiergate-small", completions: false, apiKeyName: null };
  await addVersion(database.db, { tier: name, version: `${name}@1`, endpoints: [endpoint] }, "test");
  await promote(database.db, { tier: name, version: `${name}@1`, actor: "test", reason: "responses test" });
}

/** Requests the private model server received on `path` so far. */
async function served(path: string): Promise<number> {
  const text = await (await fetch(`${upstream}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`model_server_http_requests_total{path="${path}"}`));
  return line ? Number(line.split(" ").at(-1)) : 0;
}

async function counts(): Promise<{ responses: number; chat: number }> {
  return { responses: await served("/v1/responses"), chat: await served("/v1/chat/completions") };
}

beforeAll(async () => {
  await startModelServer();
  await addModel(nativeModel, ["responses"], `${upstream}/v1`);
  await addModel(plainModel, [], `${upstream}/v1`);
  // Flagged, but nothing listens there: the native attempt fails and the chat path takes over.
  await addModel(deadNativeModel, ["responses"], "http://127.0.0.1:1/v1");
  pool = await startTestPool(18_162, { REGISTRY_POLL_MS: "200" });
  edge = await startWranglerEdge("edge-responses-passthrough", 8_842, { POOL_REGIONS: `local=${pool.url}` });
  const { key } = await createTestApiKey(`responses-pass-${stamp}`);
  client = new OpenAI({ apiKey: key, baseURL: `${edge.url}/v1`, maxRetries: 0, timeout: 60_000 });
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await pool?.stop();
  modelServer?.kill("SIGTERM");
  const names = [nativeModel, plainModel, deadNativeModel];
  await database.db.delete(catalogModels).where(inArray(catalogModels.name, names));
  await database.db.delete(modelVersions).where(inArray(modelVersions.tier, names));
  for (const name of names) await database.db.delete(registryTiers).where(eq(registryTiers.name, name));
  await database.close();
});

const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

describe("POST /v1/responses passed through to an upstream serving /v1/responses", () => {
  it("relays the upstream's response object, records its cost, and caches it", async () => {
    const before = await counts();
    const request = { model: nativeModel, input: unique("Say hello."), max_output_tokens: 8, temperature: 0 };
    const { data, response } = await client.responses.create(request).withResponse();
    const after = await counts();
    expect(after.responses).toBe(before.responses + 1);
    expect(after.chat).toBe(before.chat);
    expect(data.object).toBe("response");
    // The model server's own id and model name (the translated path would name the chat completion).
    expect(data.id).toMatch(/^resp_[0-9a-f]{32}$/);
    expect(data.model).toBe("tiergate-small");
    expect(data.output_text.length).toBeGreaterThan(0);
    expect(data.usage?.output_tokens).toBeGreaterThan(0);
    expect(response.headers.get(headers.cache)).toBe("MISS");
    expect(response.headers.get(headers.tier)).toBe(nativeModel);
    expect(Number(response.headers.get(spendHeaders.tokens))).toBe(data.usage?.total_tokens);
    expect(response.headers.get(headers.requestId)).toBeTruthy();

    const again = await client.responses.create(request).withResponse();
    expect(again.response.headers.get(headers.cache)).toBe("HIT");
    expect(again.data.id).toBe(data.id);
    expect((await counts()).responses).toBe(after.responses);
  });

  it("relays the upstream's event stream with client.responses.stream", async () => {
    const before = await counts();
    const stream = client.responses.stream({
      model: nativeModel,
      input: [{ role: "user", content: unique("Count to three.") }],
      max_output_tokens: 8,
    });
    const types: string[] = [];
    let deltas = "";
    for await (const event of stream) {
      types.push(event.type);
      if (event.type === "response.output_text.delta") deltas += event.delta;
    }
    const final = await stream.finalResponse();
    const after = await counts();
    expect(after.responses).toBe(before.responses + 1);
    expect(after.chat).toBe(before.chat);
    expect(types[0]).toBe("response.created");
    expect(types).toContain("response.output_text.delta");
    expect(["response.completed", "response.incomplete"]).toContain(types.at(-1));
    expect(final.id).toMatch(/^resp_[0-9a-f]{32}$/);
    const message = final.output.find((item) => item.type === "message");
    const part = message?.type === "message" ? message.content[0] : undefined;
    expect(part?.type === "output_text" && part.text).toBe(deltas);
  });

  it("translates through chat completions for a model without the flag", async () => {
    const before = await counts();
    const data = await client.responses.create({
      model: plainModel,
      input: unique("Say hello."),
      max_output_tokens: 8,
    });
    const streamed = await client.responses
      .stream({ model: plainModel, input: unique("Say hi."), max_output_tokens: 8 })
      .finalResponse();
    const after = await counts();
    expect(after.chat).toBe(before.chat + 2);
    expect(after.responses).toBe(before.responses);
    expect(data.object).toBe("response");
    expect(data.output_text.length).toBeGreaterThan(0);
    expect(streamed.output.length).toBeGreaterThan(0);
  });

  it("falls back to the chat path when every native endpoint fails", async () => {
    const { data, response } = await client.responses
      .create({ model: deadNativeModel, input: unique("Say hello."), max_output_tokens: 8 })
      .withResponse();
    expect(data.object).toBe("response");
    // The chat path has no live endpoint either: its deterministic `rules` answer, still a response.
    expect(response.headers.get(headers.tier)).toBe("rules");
  });

  it("answers bad input with a 400 in the error shape", async () => {
    const error = await client.responses
      .create({ model: nativeModel, input: [], max_output_tokens: 8 } as never)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.BadRequestError);
    expect((error as InstanceType<typeof OpenAI.BadRequestError>).requestID).toBeTruthy();
  });
});
