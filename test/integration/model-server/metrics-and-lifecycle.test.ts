import OpenAI, { APIConnectionError } from "openai";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isAlive, readPid, sleep } from "../../stack/process.ts";
import { localModelServer, modelServerService } from "../../stack/services/model-server.ts";

const client = new OpenAI({
  baseURL: localModelServer.baseURL,
  apiKey: localModelServer.apiKey,
  maxRetries: 0,
});
const metricsUrl = `${modelServerService.url}/metrics`;
const [small] = localModelServer.chatModels;

/** Reads one `name{model_name="..."} value` sample from the Prometheus text. */
async function gauge(name: string, model: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name}{model_name="${model}"}`));
  if (!line) throw new Error(`no ${name} sample for ${model} in /metrics`);
  return Number(line.split(" ").at(-1));
}

/** Polls until `check` holds, for at most `attempts` tries; returns whether it held. */
async function eventually(check: () => Promise<boolean>, attempts = 300): Promise<boolean> {
  for (let i = 0; i < attempts; i++) {
    if (await check()) return true;
    await sleep(50);
  }
  return false;
}

describe("model server: metrics", () => {
  beforeAll(async () => {
    await modelServerService.install();
    await modelServerService.start();
  });

  it("exposes vLLM's gauges for every configured model", async () => {
    const response = await fetch(metricsUrl);
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/plain");
    const text = await response.text();
    for (const name of [
      "vllm:num_requests_running",
      "vllm:num_requests_waiting",
      "vllm:gpu_cache_usage_perc",
    ]) {
      expect(text).toContain(`# TYPE ${name} gauge`);
      for (const model of [...localModelServer.chatModels, localModelServer.embeddingModel]) {
        expect(Number.isFinite(await gauge(name, model))).toBe(true);
      }
    }
  });

  it("reports queued generations as waiting while one runs, and drains when clients give up", async () => {
    const model = small ?? "";
    const abort = new AbortController();
    const long = { model, prompt: "1, 2, 3, 4,", temperature: 0, max_tokens: 400 };
    const requests = [1, 2, 3].map(() =>
      client.completions.create(long, { signal: abort.signal }).catch(() => null),
    );
    let cacheUsage = 0;
    const queued = await eventually(async () => {
      cacheUsage = await gauge("vllm:gpu_cache_usage_perc", model);
      const running = await gauge("vllm:num_requests_running", model);
      return running === 1 && (await gauge("vllm:num_requests_waiting", model)) === 2 && cacheUsage > 0;
    });
    abort.abort();
    await Promise.all(requests);
    expect(queued).toBe(true);
    expect(cacheUsage).toBeGreaterThan(0);
    expect(cacheUsage).toBeLessThanOrEqual(1);
    const drained = await eventually(
      async () =>
        (await gauge("vllm:num_requests_running", model)) === 0 &&
        (await gauge("vllm:num_requests_waiting", model)) === 0,
    );
    expect(drained).toBe(true);
  });

  it("counts generated tokens", async () => {
    const before = await gauge("vllm:generation_tokens_total", small ?? "");
    await client.completions.create({ model: small ?? "", prompt: "Hello", temperature: 0, max_tokens: 4 });
    expect(await gauge("vllm:generation_tokens_total", small ?? "")).toBe(before + 4);
  });
});

describe("model server: lifecycle", () => {
  afterAll(async () => {
    // Leave it running for the files that follow.
    await modelServerService.start();
  });

  it("start is idempotent and health means both models answer", async () => {
    await modelServerService.start();
    const pid = readPid("model-server");
    await modelServerService.start();
    expect(readPid("model-server")).toBe(pid);
    expect(await modelServerService.healthy()).toBe(true);
    const embedding = await client.embeddings.create({ model: localModelServer.embeddingModel, input: "ok" });
    expect(embedding.data[0]?.embedding).toHaveLength(384);
  });

  it("a stopped server fails requests; starting it again serves them", async () => {
    const pid = readPid("model-server");
    await modelServerService.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await modelServerService.healthy()).toBe(false);
    const failure = await client.models.list().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(failure).toBeInstanceOf(APIConnectionError);
    await modelServerService.start();
    // A keep-alive socket pooled before the restart may still fail once; the SDK retries connection errors.
    const models = await client.withOptions({ maxRetries: 2 }).models.list();
    expect(models.data.length).toBeGreaterThan(0);
  });
});
