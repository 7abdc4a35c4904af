import { z } from "zod";
import type { CollectionKey, DocumentStore } from "../backfill/document-store.ts";

/** A collection's relevance threshold: the setting `eval:rag --sweep` proposes and the retriever reads. */
export const thresholdSchema = z.number().min(0).max(1);

/** The proposal `eval:rag --sweep` writes into `.stack/results/eval-rag.json`. */
export const evalProposalSchema = z.object({
  sweep: z.object({ proposal: z.object({ threshold: thresholdSchema }).nullable() }),
});

/** Reads the proposed threshold out of an eval-rag results file's JSON. */
export function proposedThreshold(results: unknown): number {
  const parsed = evalProposalSchema.safeParse(results);
  if (!parsed.success || parsed.data.sweep.proposal === null) {
    throw new Error("the results file holds no sweep proposal; run `npm run eval:rag -- --sweep` first");
  }
  return parsed.data.sweep.proposal.threshold;
}

/**
 * Stores a calibrated threshold for an existing collection in `rag_collections` (the same row the
 * backfill writes; the newest row wins), keeping its active embedding version. Returns the previous
 * threshold. Throws when the collection does not exist.
 */
export async function storeCalibratedThreshold(
  store: Pick<DocumentStore, "collection" | "setCollection">,
  key: CollectionKey,
  threshold: number,
): Promise<{ previous: number; stored: number }> {
  const value = thresholdSchema.parse(threshold);
  const current = await store.collection(key);
  if (!current) throw new Error(`collection ${key.tenant}/${key.collection} does not exist`);
  await store.setCollection(key, value, current.activeModelVersion);
  const after = await store.collection(key);
  return { previous: current.threshold, stored: after?.threshold ?? value };
}
