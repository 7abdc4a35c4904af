import { describe, expect, it } from "vitest";
import { parseTcmallocOutput, tcmallocScript } from "../../bench/tcmalloc-stats.ts";

describe("tcmalloc counters through gdb", () => {
  it("asks for every counter, releasing free pages first only when told", () => {
    const plain = tcmallocScript(false);
    expect(plain).toContain('GetNumericProperty("generic.current_allocated_bytes", 31, $v)');
    expect(plain).toContain('GetNumericProperty("tcmalloc.pageheap_free_bytes", 28, $v)');
    expect(plain).not.toContain("ReleaseMemoryToSystem");
    expect(tcmallocScript(true)).toContain("ReleaseMemoryToSystem");
  });

  it("reads the printed counters in MB, NaN for a missing one", () => {
    const stats = parseTcmallocOutput(
      "noise\ntcmalloc allocated_mb 2097152\ntcmalloc heap_mb 6291456\ntcmalloc pageheap_free_mb 0\n",
    );
    expect(stats.allocated_mb).toBe(2);
    expect(stats.heap_mb).toBe(6);
    expect(stats.pageheap_free_mb).toBe(0);
    expect(stats.physical_mb).toBeNaN();
  });
});
