import { describe, expect, it } from "vitest";
import { type HeapSnapshotJson, heapGrowth, summariseHeapSnapshot } from "../../bench/heap-summary.ts";

/** A snapshot in V8's format: nodes are [type, name, id, self_size, edge_count] rows over `strings`. */
function snapshot(rows: [type: number, name: number, size: number][], strings: string[]): HeapSnapshotJson {
  return {
    snapshot: {
      meta: {
        node_fields: ["type", "name", "id", "self_size", "edge_count"],
        node_types: [["hidden", "array", "string", "object", "code", "closure"], "string", "number"],
      },
    },
    nodes: rows.flatMap(([type, name, size], id) => [type, name, id, size, 0]),
    strings,
  };
}

const strings = ["Map", "Flight", "some string", "handler", "(object elements)"];

describe("heap snapshot summaries", () => {
  it("counts objects by constructor, closures by name, strings together", () => {
    const summary = summariseHeapSnapshot(
      snapshot(
        [
          [3, 0, 80],
          [3, 1, 40],
          [3, 1, 40],
          [2, 2, 32],
          [5, 3, 64],
          [1, 4, 16],
        ],
        strings,
      ),
    );
    expect(summary.nodes).toBe(6);
    expect(summary.selfBytes).toBe(272);
    expect(summary.groups["object:Flight"]).toEqual({ count: 2, selfBytes: 80 });
    expect(summary.groups["object:Map"]).toEqual({ count: 1, selfBytes: 80 });
    expect(summary.groups["(string)"]).toEqual({ count: 1, selfBytes: 32 });
    expect(summary.groups["closure:handler"]).toEqual({ count: 1, selfBytes: 64 });
    expect(summary.groups["array:(object elements)"]).toEqual({ count: 1, selfBytes: 16 });
  });

  it("ranks what grew between two snapshots, largest growth in bytes first", () => {
    const before = summariseHeapSnapshot(
      snapshot(
        [
          [3, 1, 40],
          [3, 0, 80],
          [2, 2, 32],
        ],
        strings,
      ),
    );
    const after = summariseHeapSnapshot(
      snapshot(
        [
          [3, 1, 40],
          [3, 1, 40],
          [3, 1, 40],
          [3, 0, 80],
          [5, 3, 64],
        ],
        strings,
      ),
    );
    const growth = heapGrowth(before, after, 3);
    expect(growth.map((g) => g.group)).toEqual(["object:Flight", "closure:handler", "object:Map"]);
    expect(growth[0]).toEqual({
      group: "object:Flight",
      countDelta: 2,
      bytesDelta: 80,
      countAfter: 3,
      bytesAfter: 120,
    });
    expect(heapGrowth(before, after).at(-1)).toMatchObject({
      group: "(string)",
      countDelta: -1,
      bytesDelta: -32,
    });
  });
});
