import { desc } from "drizzle-orm";
import type { TokenPrice } from "../../shared/schemas/spend.ts";
import { type Database, withPostgres } from "../db/client.ts";
import { modelPrices } from "../db/schema.ts";

/** One price of a model version, effective from a time on (epoch ms). */
export interface PriceEntry {
  tier: string;
  version: string;
  price: TokenPrice;
  effectiveFrom: number;
}

/** A new price: effective now unless `effectiveFrom` says when. */
export interface NewPrice {
  tier: string;
  version: string;
  price: TokenPrice;
  effectiveFrom?: Date;
  actor: string;
}

/** Appends a price (the table is append-only: history stays, a later row supersedes). */
export async function setPrice(db: Database, input: NewPrice): Promise<PriceEntry> {
  const [row] = await withPostgres(() =>
    db
      .insert(modelPrices)
      .values({
        tier: input.tier,
        version: input.version,
        inputPerMillion: input.price.input,
        outputPerMillion: input.price.output,
        cachedPerMillion: input.price.cached,
        actor: input.actor,
        ...(input.effectiveFrom ? { effectiveFrom: input.effectiveFrom } : {}),
      })
      .returning(),
  );
  if (!row) throw new Error("insert into model_prices returned no row");
  return toEntry(row);
}

function toEntry(row: typeof modelPrices.$inferSelect): PriceEntry {
  return {
    tier: row.tier,
    version: row.version,
    price: { input: row.inputPerMillion, output: row.outputPerMillion, cached: row.cachedPerMillion },
    effectiveFrom: row.effectiveFrom.getTime(),
  };
}

/** Every price row, newest first (the registry's whole price history). */
export async function listPrices(db: Database): Promise<PriceEntry[]> {
  const rows = await withPostgres(() =>
    db.select().from(modelPrices).orderBy(desc(modelPrices.effectiveFrom), desc(modelPrices.id)),
  );
  return rows.map(toEntry);
}

const zero: TokenPrice = { input: 0, output: 0, cached: 0 };

/**
 * The price history in memory, so costing a request costs no query: the price of a version at a time
 * is its row with the latest `effectiveFrom` not after it. Replace the history with {@link update}.
 */
export class PriceBook {
  private byVersion = new Map<string, PriceEntry[]>();
  private ceilingPrice: TokenPrice = zero;

  constructor(entries: readonly PriceEntry[] = []) {
    this.update(entries);
  }

  /** Replaces the history (e.g. after re-reading `model_prices`). */
  update(entries: readonly PriceEntry[]): void {
    const byVersion = new Map<string, PriceEntry[]>();
    for (const entry of entries) {
      const key = `${entry.tier}\u0000${entry.version}`;
      const list = byVersion.get(key) ?? [];
      list.push(entry);
      byVersion.set(key, list);
    }
    for (const list of byVersion.values()) list.sort((a, b) => b.effectiveFrom - a.effectiveFrom);
    this.byVersion = byVersion;
    this.ceilingPrice = this.computeCeiling(Date.now());
  }

  /** The version's price at `atMs`, or null when it has none (its requests cost 0). */
  priceAt(tier: string, version: string, atMs: number): TokenPrice | null {
    const list = this.byVersion.get(`${tier}\u0000${version}`);
    return list?.find((entry) => entry.effectiveFrom <= atMs)?.price ?? null;
  }

  /**
   * The highest current price per token kind over every priced version: what a reservation is priced at
   * before the router has chosen a model, so it never under-reserves.
   */
  ceiling(): TokenPrice {
    return this.ceilingPrice;
  }

  private computeCeiling(now: number): TokenPrice {
    const out = { ...zero };
    for (const list of this.byVersion.values()) {
      const current = list.find((entry) => entry.effectiveFrom <= now) ?? list[list.length - 1];
      if (!current) continue;
      out.input = Math.max(out.input, current.price.input);
      out.output = Math.max(out.output, current.price.output);
      out.cached = Math.max(out.cached, current.price.cached);
    }
    return out;
  }
}

/** Tokens of one request, for its cost. `cachedTokens` are part of `promptTokens`. */
export interface TokenUsage {
  promptTokens: number;
  completionTokens: number;
  cachedTokens: number;
}

/** USD of a request at `price` (per million tokens); cached prompt tokens at the cached price. */
export function costUsd(price: TokenPrice, usage: TokenUsage): number {
  const cached = Math.min(usage.cachedTokens, usage.promptTokens);
  return (
    ((usage.promptTokens - cached) * price.input +
      cached * price.cached +
      usage.completionTokens * price.output) /
    1_000_000
  );
}
