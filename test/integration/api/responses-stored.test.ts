import { eq, inArray } from "drizzle-orm";
import OpenAI from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { createDatabase } from "../../../workers/db/client.ts";
import { catalogModels, modelVersions, registryTiers, storedResponses } from "../../../workers/db/schema.ts";
import { addCatalogModel } from "../../../workers/registry/catalog-store.ts";
import { addVersion, promote } from "../../../workers/registry/store.ts";
import { PostgresResponseStore } from "../../../workers/responses/store.ts";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { postgresService } from "../../stack/services/postgres.ts";
import { type ExtraEdge, startWranglerEdge } from "../edge/wrangler-edge.ts";
import { startTestPool, type TestPool } from "../router/pool-harness.ts";
import { type RecordingUpstream, startRecordingUpstream } from "./recording-upstream.ts";

/*
 * Stored responses and previous_response_id through this checkout's edge and pool, backed by the
 * stack's Postgres. The upstream records what reached it: the chain is proven on the upstream request.
 */
const stamp = Date.now();
const nativeModel = `store-native-${stamp}`;
const plainModel = `store-plain-${stamp}`;
const env = localPoolEnv();
const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });
const tenantA = `responses-store-a-${stamp}`;
let upstream: RecordingUpstream;
let pool: TestPool;
let edge: ExtraEdge;
let clientA: OpenAI;
let clientB: OpenAI;

async function addModel(name: string, capabilities: ["responses"] | []): Promise<void> {
  await addCatalogModel(
    database.db,
    { name, aliases: [], autoTier: null, contextWindow: 8_000, capabilities },
    "test",
  );
  const endpoint = { baseURL: upstream.url, model: `${name}-upstream`, completions: false };
  await addVersion(database.db, { tier: name, version: `${name}@1`, endpoints: [endpoint] }, "test");
  await promote(database.db, { tier: name, version: `${name}@1`, actor: "test", reason: "store test" });
}

function clientOf(key: string): OpenAI {
  return new OpenAI({ apiKey: key, baseURL: `${edge.url}/v1`, maxRetries: 0, timeout: 30_000 });
}

beforeAll(async () => {
  upstream = await startRecordingUpstream(18_181);
  await addModel(nativeModel, ["responses"]);
  await addModel(plainModel, []);
  pool = await startTestPool(18_182, { REGISTRY_POLL_MS: "200" });
  edge = await startWranglerEdge("edge-responses-stored", 8_852, { POOL_REGIONS: `local=${pool.url}` });
  clientA = clientOf((await createTestApiKey(tenantA)).key);
  clientB = clientOf((await createTestApiKey(`responses-store-b-${stamp}`)).key);
}, 180_000);

afterAll(async () => {
  await edge?.stop();
  await pool?.stop();
  await upstream?.close();
  const names = [nativeModel, plainModel];
  await database.db.delete(catalogModels).where(inArray(catalogModels.name, names));
  await database.db.delete(modelVersions).where(inArray(modelVersions.tier, names));
  for (const name of names) await database.db.delete(registryTiers).where(eq(registryTiers.name, name));
  await database.close();
});

const unique = (label: string) => `${label} ${crypto.randomUUID()}`;

/** The last upstream request on `path` whose body mentions `marker`. */
function upstreamWith(path: string, marker: string): Record<string, unknown> {
  const found = upstream.requests.filter((r) => r.path === path && JSON.stringify(r.body).includes(marker));
  const last = found.at(-1);
  if (!last) throw new Error(`no ${path} request carried ${marker}`);
  return last.body;
}

describe.each([
  { mode: "translated", model: () => plainModel, path: "/v1/chat/completions" },
  { mode: "passed through", model: () => nativeModel, path: "/v1/responses" },
])("stored responses ($mode)", ({ model, path }) => {
  it("stores, retrieves, chains with previous_response_id, lists input items and deletes", async () => {
    const first = unique("first turn");
    const created = await clientA.responses
      .create({ model: model(), input: first, store: true, temperature: 0 })
      .withResponse();
    expect((created.data as unknown as { store?: boolean }).store).toBe(true);
    expect(created.response.headers.get(headers.cache)).toBe("BYPASS");
    const firstText = created.data.output_text;
    expect(firstText).toMatch(/^answer \d+$/);
    const retrieved = await clientA.responses.retrieve(created.data.id);
    expect(retrieved.id).toBe(created.data.id);
    expect(retrieved.output_text).toBe(firstText);

    const second = unique("second turn");
    const chained = await clientA.responses.create({
      model: model(),
      input: second,
      previous_response_id: created.data.id,
      store: true,
    });
    expect(chained.previous_response_id).toBe(created.data.id);
    const sent = JSON.stringify(upstreamWith(path, second));
    // The upstream saw the earlier turn and its answer before the new input, in order.
    expect(sent.indexOf(first)).toBeGreaterThanOrEqual(0);
    expect(sent.indexOf(first)).toBeLessThan(sent.indexOf(firstText));
    expect(sent.indexOf(firstText)).toBeLessThan(sent.indexOf(second));
    expect(sent).not.toContain("previous_response_id");

    const third = unique("third turn");
    await clientA.responses.create({ model: model(), input: third, previous_response_id: chained.id });
    const chain = JSON.stringify(upstreamWith(path, third));
    expect(chain).toContain(first);
    expect(chain).toContain(second);

    const items = await clientA.responses.inputItems.list(chained.id);
    expect(JSON.stringify(items.data)).toContain(first);
    expect(JSON.stringify(items.data)).toContain(second);

    await clientA.responses.delete(created.data.id);
    const gone = await clientA.responses.retrieve(created.data.id).catch((e: unknown) => e);
    expect(gone).toBeInstanceOf(OpenAI.NotFoundError);
  });

  it("stores a streamed response before the stream ends", async () => {
    const stream = clientA.responses.stream({ model: model(), input: unique("streamed"), store: true });
    const final = await stream.finalResponse();
    const retrieved = await clientA.responses.retrieve(final.id);
    expect(retrieved.id).toBe(final.id);
  });
});

describe("stored responses: tenant isolation and missing ids", () => {
  it("answers another tenant's id exactly like a missing one", async () => {
    const mine = await clientA.responses.create({ model: plainModel, input: unique("secret"), store: true });
    const missing = `resp_missing${stamp}`;
    const foreign = await clientB.responses.retrieve(mine.id).catch((e: unknown) => e);
    const absent = await clientB.responses.retrieve(missing).catch((e: unknown) => e);
    expect(foreign).toBeInstanceOf(OpenAI.NotFoundError);
    expect(absent).toBeInstanceOf(OpenAI.NotFoundError);
    const shape = (e: unknown) => {
      const error = e as InstanceType<typeof OpenAI.NotFoundError>;
      return { status: error.status, type: error.type, code: error.code, param: error.param };
    };
    expect(shape(foreign)).toEqual(shape(absent));
    expect(await clientB.responses.delete(mine.id).catch((e: unknown) => e)).toBeInstanceOf(
      OpenAI.NotFoundError,
    );
    const chained = await clientB.responses
      .create({ model: plainModel, input: "x", previous_response_id: mine.id })
      .catch((e: unknown) => e);
    expect(chained).toBeInstanceOf(OpenAI.NotFoundError);
    expect((chained as InstanceType<typeof OpenAI.NotFoundError>).param).toBe("previous_response_id");
    expect((chained as InstanceType<typeof OpenAI.NotFoundError>).requestID).toBeTruthy();
    // Still there for its own tenant.
    expect((await clientA.responses.retrieve(mine.id)).id).toBe(mine.id);
  });

  it("answers a malformed id with a 400 and a missing key with a 401, in the error shape", async () => {
    const bad = await fetch(`${edge.url}/v1/responses/${encodeURIComponent("bad id!")}`, {
      headers: { authorization: `Bearer ${clientA.apiKey}` },
    });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { request_id?: string } }).error.request_id).toBeTruthy();
    for (const [method, suffix] of [
      ["GET", ""],
      ["GET", "/input_items"],
      ["DELETE", ""],
    ]) {
      const missing = await fetch(`${edge.url}/v1/responses/resp_none${stamp}${suffix}`, {
        method,
        headers: { authorization: `Bearer ${clientA.apiKey}` },
      });
      expect(missing.status).toBe(404);
      const body = (await missing.json()) as { error: { request_id?: string; type?: string } };
      expect(body.error.type).toBe("invalid_request_error");
      expect(body.error.request_id).toBe(missing.headers.get("x-request-id"));
    }
    const chained = await fetch(`${edge.url}/v1/responses`, {
      method: "POST",
      headers: { authorization: `Bearer ${clientA.apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({ model: plainModel, input: "x", previous_response_id: `resp_none${stamp}` }),
    });
    expect(chained.status).toBe(404);
    const chainedBody = (await chained.json()) as { error: { request_id?: string; param?: string } };
    expect(chainedBody.error.param).toBe("previous_response_id");
    expect(chainedBody.error.request_id).toBe(chained.headers.get("x-request-id"));
    const anonymous = await fetch(`${edge.url}/v1/responses/resp_x`, { method: "DELETE" });
    expect(anonymous.status).toBe(401);
    expect(((await anonymous.json()) as { error: { type?: string } }).error.type).toBe(
      "authentication_error",
    );
  });

  it("hides expired responses and the cleanup deletes them", async () => {
    const expired = new PostgresResponseStore(database.db, -1_000);
    const id = `resp_expired${stamp}`;
    await expired.save({
      id,
      tenantId: tenantA,
      keyId: null,
      model: plainModel,
      previousResponseId: null,
      inputItems: [],
      response: { id, object: "response", model: plainModel, output: [] },
    });
    expect(await expired.get(tenantA, id)).toBeNull();
    const error = await clientA.responses.retrieve(id).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OpenAI.NotFoundError);
    // The save's own sweep may have deleted it already; either way the cleanup leaves no row.
    await expired.deleteExpired(10_000);
    const rows = await database.db.select().from(storedResponses).where(eq(storedResponses.id, id));
    expect(rows).toEqual([]);
  });
});

describe("stored responses while Postgres is down", () => {
  it("answers store and lookup requests with a 503 in the error shape, and stateless ones still work", async () => {
    const kept = await clientA.responses.create({ model: plainModel, input: unique("before"), store: true });
    await postgresService.stop();
    try {
      const store = await clientA.responses
        .create({ model: plainModel, input: unique("down"), store: true })
        .catch((e: unknown) => e);
      expect(store).toBeInstanceOf(OpenAI.InternalServerError);
      expect((store as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(503);
      expect((store as Error).message).toContain("response store");
      const lookup = await clientA.responses.retrieve(kept.id).catch((e: unknown) => e);
      expect((lookup as InstanceType<typeof OpenAI.InternalServerError>).status).toBe(503);
      const stateless = await clientA.responses.create({ model: plainModel, input: unique("stateless") });
      expect(stateless.output_text).toMatch(/^answer \d+$/);
    } finally {
      await postgresService.start();
    }
    expect((await clientA.responses.retrieve(kept.id)).id).toBe(kept.id);
  });
});
