import type { Logger } from "../../shared/logger.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import type { Embedder } from "../retrieval/model-clients.ts";
import { type SemanticPrompt, semanticPrompt } from "./canonical.ts";
import { nearMissReason, swappedWords } from "./guard.ts";
import { RowBatcher } from "./row-batcher.ts";
import type { SemanticEntry, SemanticStore } from "./store.ts";

/** What a lookup found. A miss carries what `store` needs to keep the answer (the prompt's vector). */
export type SemanticLookup =
  | { kind: "hit"; response: string; similarity: number }
  | { kind: "miss"; pending: PendingEntry }
  | { kind: "skip"; reason: string };

/** A looked-up prompt whose answer may be stored. */
export interface PendingEntry {
  tenant: string;
  key: SemanticPrompt;
  embedding: number[];
}

export interface SemanticCacheOptions {
  store: SemanticStore;
  embedder: Embedder;
  logger: Logger;
  /** The deployment's threshold; a request may only raise it. */
  threshold: number;
  exactMaxRows: number;
  deadlineMs: number;
  /** How long a partition's size is trusted for the exact/HNSW choice. Default 5 s. */
  sizeTtlMs?: number;
  /** Neighbours read per lookup: the first that passes the near-miss guard wins. Default 4. */
  candidates?: number;
  /** Lowest similarity of swapped words ("key" for "value") for the swap to count as a paraphrase. Default 0.6. */
  swapSimilarity?: number;
}

function dot(a: readonly number[], b: readonly number[]): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] ?? 0) * (b[i] ?? 0);
  return sum;
}

/** Whether an answer may be shared: one plain-text choice, not a tool call, not cut by a filter. */
export function shareableAnswer(body: string): boolean {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return false;
  }
  const choices = (parsed as { choices?: unknown }).choices;
  if (!Array.isArray(choices) || choices.length !== 1) return false;
  const choice = choices[0] as {
    finish_reason?: unknown;
    message?: { content?: unknown; tool_calls?: unknown; function_call?: unknown };
  };
  const message = choice.message;
  if (!message || typeof message.content !== "string" || message.content.trim() === "") return false;
  if (message.tool_calls !== undefined && message.tool_calls !== null) return false;
  if (message.function_call !== undefined && message.function_call !== null) return false;
  return choice.finish_reason === "stop" || choice.finish_reason === "length";
}

/**
 * True when the prompts are one small word swap apart (`swappedWords`) and the swapped words do not mean
 * alike: some word of either side has no counterpart on the other with a similarity of at least `floor`.
 */
export async function swapChangesMeaning(
  embedder: Embedder,
  a: string,
  b: string,
  floor = 0.6,
): Promise<boolean> {
  const swap = swappedWords(a, b);
  if (!swap) return false;
  const vectors = await embedder.embed([...swap.a, ...swap.b]);
  const va = vectors.slice(0, swap.a.length);
  const vb = vectors.slice(swap.a.length);
  const matched = (from: number[][], to: number[][]) =>
    from.every((x) => Math.max(...to.map((y) => dot(x, y))) >= floor);
  return !(matched(va, vb) && matched(vb, va));
}

class Late extends Error {}

function raceDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Late(`semantic cache lookup over ${ms} ms`)), ms);
  });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/**
 * The semantic cache: embeds the canonical last user turn, reads the nearest earlier prompts of the same
 * tenant and partition (model, sampling parameters, system prompt, tools, earlier turns), and serves the
 * first one at or above the threshold that the near-miss guard accepts. Any failure (embeddings,
 * ClickHouse, the deadline) is a skip: the request goes upstream as if the cache were off.
 */
export class SemanticCache {
  readonly #sizes = new Map<string, { rows: number; at: number }>();
  readonly #writes: RowBatcher<SemanticEntry>;

  constructor(private readonly options: SemanticCacheOptions) {
    this.#writes = new RowBatcher({
      write: (rows) => options.store.insert(rows),
      onDrop: (rows, error) =>
        options.logger.warn("semantic cache entries not written", {
          rows,
          error: error instanceof Error ? error.message : String(error),
        }),
    });
  }

  /** The threshold a request runs at: the deployment's, or a stricter one its key asks for. */
  thresholdFor(requested: number | null | undefined): number {
    return Math.max(this.options.threshold, requested ?? 0);
  }

  /** Looks the request up. Never throws. */
  async lookup(
    tenant: string,
    request: ChatCompletionRequest,
    options: { threshold?: number | null; refresh?: boolean; allowedModels?: readonly string[] | null } = {},
  ): Promise<SemanticLookup> {
    const key = await semanticPrompt(request, options.allowedModels ?? null);
    if ("ineligible" in key) return { kind: "skip", reason: key.ineligible };
    try {
      return await raceDeadline(this.#find(tenant, key, options), this.options.deadlineMs);
    } catch (error: unknown) {
      this.options.logger.warn("semantic cache lookup skipped", {
        error: error instanceof Error ? error.message : String(error),
      });
      return { kind: "skip", reason: error instanceof Late ? "deadline" : "unavailable" };
    }
  }

  async #find(
    tenant: string,
    key: SemanticPrompt,
    options: { threshold?: number | null; refresh?: boolean },
  ): Promise<SemanticLookup> {
    const [embedding] = await this.options.embedder.embed([key.prompt]);
    if (!embedding) throw new Error("no embedding returned");
    const pending: PendingEntry = { tenant, key, embedding };
    if (options.refresh) return { kind: "miss", pending };
    const modelVersion = this.options.embedder.modelVersion;
    const rows = await this.#partitionSize(tenant, key.partition, modelVersion);
    if (rows === 0) return { kind: "miss", pending };
    const neighbours = await this.options.store.nearest(
      { tenant, partition: key.partition, modelVersion },
      {
        embedding,
        k: this.options.candidates ?? 4,
        search: rows <= this.options.exactMaxRows ? "exact" : "hnsw",
      },
    );
    const threshold = this.thresholdFor(options.threshold);
    for (const n of neighbours) {
      if (n.similarity < threshold) break;
      if (nearMissReason(key.prompt, n.prompt) !== null) continue;
      if (
        await swapChangesMeaning(this.options.embedder, key.prompt, n.prompt, this.options.swapSimilarity)
      ) {
        continue;
      }
      return { kind: "hit", response: n.response, similarity: n.similarity };
    }
    return { kind: "miss", pending };
  }

  async #partitionSize(tenant: string, partition: string, modelVersion: string): Promise<number> {
    const id = `${tenant}\n${partition}\n${modelVersion}`;
    const known = this.#sizes.get(id);
    const now = Date.now();
    // A known-empty partition is asked again each time: its first entry should be found at once.
    if (known && known.rows > 0 && now - known.at < (this.options.sizeTtlMs ?? 5_000)) return known.rows;
    const rows = await this.options.store.partitionSize(tenant, partition, modelVersion);
    if (this.#sizes.size > 10_000) this.#sizes.clear();
    this.#sizes.set(id, { rows, at: now });
    return rows;
  }

  /** Queues a complete answer for the cache when it may be shared (see `shareableAnswer`). */
  store(pending: PendingEntry, response: string, ttlSeconds: number): boolean {
    if (!shareableAnswer(response)) return false;
    this.#writes.add({
      tenant: pending.tenant,
      partition: pending.key.partition,
      modelVersion: this.options.embedder.modelVersion,
      prompt: pending.key.prompt,
      response,
      embedding: pending.embedding,
      expiresAt: new Date(Date.now() + ttlSeconds * 1000),
    });
    return true;
  }

  /** Writes queued entries now (tests, shutdown). */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  close(): Promise<void> {
    return this.#writes.close();
  }
}
