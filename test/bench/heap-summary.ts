/**
 * Summaries of V8 heap snapshots (the `.heapsnapshot` JSON DevTools reads): live objects counted and
 * their self sizes summed by constructor, and the difference between two summaries, largest growth
 * first, which names what a growing heap holds.
 */

/** The parts of a `.heapsnapshot` a summary reads. */
export interface HeapSnapshotJson {
  snapshot: { meta: { node_fields: string[]; node_types: unknown[] } };
  nodes: number[];
  strings: string[];
}

/** Live objects of one kind: `object:<constructor>`, `closure:<name>` or `(<type>)` for the rest. */
export interface HeapGroup {
  count: number;
  selfBytes: number;
}

/** A heap snapshot's totals and its groups. */
export interface HeapSummary {
  nodes: number;
  selfBytes: number;
  groups: Record<string, HeapGroup>;
}

/** One group's growth between two summaries. */
export interface HeapGrowth {
  group: string;
  countDelta: number;
  bytesDelta: number;
  countAfter: number;
  bytesAfter: number;
}

/** Types whose node name tells what they are (a constructor, a function, an internal kind). */
const namedTypes = new Set(["object", "closure", "native", "hidden", "array", "object shape"]);

function groupName(type: string, name: string): string {
  if (!namedTypes.has(type)) return `(${type})`;
  return `${type}:${name.length > 80 ? `${name.slice(0, 80)}…` : name}`;
}

/** Counts a snapshot's nodes and their self sizes by group. */
export function summariseHeapSnapshot(snapshot: HeapSnapshotJson): HeapSummary {
  const fields = snapshot.snapshot.meta.node_fields;
  const types = snapshot.snapshot.meta.node_types[0] as string[];
  const stride = fields.length;
  const typeAt = fields.indexOf("type");
  const nameAt = fields.indexOf("name");
  const sizeAt = fields.indexOf("self_size");
  const groups: Record<string, HeapGroup> = {};
  let selfBytes = 0;
  let nodes = 0;
  for (let i = 0; i + stride <= snapshot.nodes.length; i += stride) {
    const type = types[snapshot.nodes[i + typeAt] ?? 0] ?? "unknown";
    const name = snapshot.strings[snapshot.nodes[i + nameAt] ?? 0] ?? "";
    const size = snapshot.nodes[i + sizeAt] ?? 0;
    const key = groupName(type, name);
    const group = groups[key] ?? { count: 0, selfBytes: 0 };
    group.count++;
    group.selfBytes += size;
    groups[key] = group;
    selfBytes += size;
    nodes++;
  }
  return { nodes, selfBytes, groups };
}

/** The `top` groups that grew most from `before` to `after`, by self bytes, then by count. */
export function heapGrowth(before: HeapSummary, after: HeapSummary, top = 15): HeapGrowth[] {
  const names = new Set([...Object.keys(before.groups), ...Object.keys(after.groups)]);
  const rows: HeapGrowth[] = [];
  for (const group of names) {
    const a = before.groups[group] ?? { count: 0, selfBytes: 0 };
    const b = after.groups[group] ?? { count: 0, selfBytes: 0 };
    rows.push({
      group,
      countDelta: b.count - a.count,
      bytesDelta: b.selfBytes - a.selfBytes,
      countAfter: b.count,
      bytesAfter: b.selfBytes,
    });
  }
  return rows.sort((x, y) => y.bytesDelta - x.bytesDelta || y.countDelta - x.countDelta).slice(0, top);
}
