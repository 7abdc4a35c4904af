import { describe, expect, it } from "vitest";
import type { CollectionKey } from "../../../workers/backfill/document-store.ts";
import { proposedThreshold, storeCalibratedThreshold } from "../../../workers/retrieval/calibration.ts";

function memoryStore(initial: { threshold: number; activeModelVersion: string } | null) {
  let row = initial;
  return {
    writes: 0,
    async collection(_key: CollectionKey) {
      return row;
    },
    async setCollection(_key: CollectionKey, threshold: number, activeModelVersion: string) {
      this.writes++;
      row = { threshold, activeModelVersion };
    },
  };
}

const key = { tenant: "t", collection: "c" };

describe("calibration storage", () => {
  it("stores the threshold and keeps the active embedding version", async () => {
    const store = memoryStore({ threshold: 0.45, activeModelVersion: "m@1" });
    expect(await storeCalibratedThreshold(store, key, 0.58)).toEqual({ previous: 0.45, stored: 0.58 });
    expect(await store.collection(key)).toEqual({ threshold: 0.58, activeModelVersion: "m@1" });
  });

  it("refuses unknown collections and thresholds outside [0, 1] without writing", async () => {
    const missing = memoryStore(null);
    await expect(storeCalibratedThreshold(missing, key, 0.5)).rejects.toThrow(/does not exist/);
    const store = memoryStore({ threshold: 0.45, activeModelVersion: "m@1" });
    await expect(storeCalibratedThreshold(store, key, 1.2)).rejects.toThrow();
    expect(store.writes).toBe(0);
  });

  it("reads the sweep's proposal out of an eval results file", () => {
    expect(proposedThreshold({ sweep: { proposal: { threshold: 0.5, min_coverage: 0.6 } } })).toBe(0.5);
    expect(() => proposedThreshold({ sweep: { proposal: null } })).toThrow(/no sweep proposal/);
    expect(() => proposedThreshold({ recall_at_5: 1 })).toThrow(/no sweep proposal/);
  });
});
