import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { signedHeaders } from "../../../shared/signing.ts";
import { PoolUnderTest } from "../events/pool-under-test.ts";

/**
 * The semantic cache on a pool of its own: real embeddings (the stack's MiniLM), real ClickHouse, the
 * pool's tiers on an instant upstream. Each run uses tenants of its own.
 */
const pool = new PoolUnderTest(18_131, "semantic-cache-test");
/** The same pool code with its embeddings endpoint on a closed port: the lookup must be skipped. */
const blind = new PoolUnderTest(18_133, "semantic-cache-blind", {
  EMBEDDINGS_BASE_URL: "http://127.0.0.1:9/v1",
});
const run = crypto.randomUUID().slice(0, 8);

interface Ask {
  tenant: string;
  prompt: string;
  /** The signed directive; null sends none. */
  directive?: string | null;
  system?: string;
  target?: PoolUnderTest;
}

async function ask({ tenant, prompt, directive = "ttl=600", system, target = pool }: Ask): Promise<Response> {
  const path = "/internal/v1/chat/completions";
  const messages = [
    ...(system ? [{ role: "system", content: system }] : []),
    { role: "user", content: prompt },
  ];
  const body = JSON.stringify({ model: "auto", temperature: 0, max_tokens: 8, messages });
  const response = await fetch(`${target.url}${path}`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      ...(await signedHeaders(target.env.POOL_SIGNING_SECRET, {
        method: "POST",
        pathAndQuery: path,
        body,
        headers: {
          [headers.requestId]: `req_${crypto.randomUUID().replaceAll("-", "")}`,
          [headers.tenant]: tenant,
          [headers.deadline]: String(Date.now() + 30_000),
          ...(directive === null ? {} : { [headers.poolSemanticCache]: directive }),
        },
      })),
    },
    signal: AbortSignal.timeout(30_000),
  });
  await response.clone().arrayBuffer();
  return response;
}

/** Asks until the answer is a semantic hit (entries are written in batches a moment after the answer). */
async function eventuallyHit(request: Ask): Promise<Response> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    const response = await ask(request);
    if (response.headers.get(headers.cacheKind) === "semantic" || Date.now() > deadline) return response;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const original = "What is the capital city of Australia?";
const paraphrase = "Which city is the capital of Australia?";

beforeAll(async () => {
  await Promise.all([pool.start(), blind.start()]);
}, 120_000);

afterAll(async () => {
  await Promise.all([pool.stop(), blind.stop()]);
});

describe("semantic cache on the pool", () => {
  it("serves a paraphrase of the same tenant as a semantic hit, with its similarity", async () => {
    const tenant = `semcache-${run}-a`;
    const first = await ask({ tenant, prompt: original });
    expect(first.status).toBe(200);
    expect(first.headers.get(headers.cache)).toBeNull();
    const hit = await eventuallyHit({ tenant, prompt: paraphrase });
    expect(hit.status).toBe(200);
    expect(hit.headers.get(headers.cache)).toBe("HIT");
    expect(hit.headers.get(headers.cacheKind)).toBe("semantic");
    expect(Number(hit.headers.get(headers.cacheSimilarity))).toBeGreaterThan(0.7);
    expect(((await hit.json()) as { object: string }).object).toBe("chat.completion");

    // Never across tenants, system prompts, near-misses, or without the directive.
    const other = await ask({ tenant: `semcache-${run}-other`, prompt: paraphrase });
    expect(other.headers.get(headers.cacheKind)).toBeNull();
    const otherSystem = await ask({ tenant, prompt: paraphrase, system: "Answer in French." });
    expect(otherSystem.headers.get(headers.cacheKind)).toBeNull();
    const nearMiss = await ask({ tenant, prompt: "What is the capital city of Austria?" });
    expect(nearMiss.headers.get(headers.cacheKind)).toBeNull();
    const off = await ask({ tenant, prompt: paraphrase, directive: null });
    expect(off.headers.get(headers.cacheKind)).toBeNull();
  }, 60_000);

  it("stops serving an entry once its TTL has passed", async () => {
    const tenant = `semcache-${run}-ttl`;
    await ask({ tenant, prompt: original, directive: "ttl=2" });
    const hit = await eventuallyHit({ tenant, prompt: paraphrase, directive: "ttl=2" });
    expect(hit.headers.get(headers.cacheKind)).toBe("semantic");
    await new Promise((r) => setTimeout(r, 2_500));
    const expired = await ask({ tenant, prompt: paraphrase, directive: "ttl=2" });
    expect(expired.status).toBe(200);
    expect(expired.headers.get(headers.cacheKind)).toBeNull();
  }, 60_000);

  it("answers upstream when the embeddings tier is down", async () => {
    const response = await ask({ tenant: `semcache-${run}-blind`, prompt: original, target: blind });
    expect(response.status).toBe(200);
    expect(response.headers.get(headers.cacheKind)).toBeNull();
    expect(((await response.json()) as { object: string }).object).toBe("chat.completion");
  }, 60_000);
});
