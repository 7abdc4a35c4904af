import { describe, expect, it } from "vitest";
import { descriptorCounts, establishedOnPort, residentSplitMb } from "../../bench/proc-probe.ts";

const table = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:225A 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1 0000000000000000 100 0 0 10 0
   1: 0100007F:225A 0100007F:A1B2 01 00000000:00000000 00:00000000 00000000     0        0 2 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:225A 0100007F:A1B3 01 00000000:00000000 00:00000000 00000000     0        0 3 1 0000000000000000 20 4 30 10 -1
   3: 0100007F:225A 0100007F:A1B4 06 00000000:00000000 03:00000F3A 00000000     0        0 0 3 0000000000000000
   4: 0100007F:A1B5 0100007F:225A 01 00000000:00000000 00:00000000 00000000     0        0 4 1 0000000000000000 20 4 30 10 -1
`;

describe("/proc probes", () => {
  it("counts the established connections whose local port is the server's", () => {
    // 0x225A = 8794: the listener (0A) and a TIME_WAIT (06) do not count, nor the client's own side.
    expect(establishedOnPort(8794, table)).toBe(2);
    expect(establishedOnPort(8795, table)).toBe(0);
  });

  it("reads this process's descriptors and resident memory", () => {
    const { fds, sockets } = descriptorCounts(process.pid);
    expect(fds).toBeGreaterThan(2);
    expect(sockets).toBeLessThanOrEqual(fds);
    const { anon_mb, file_mb } = residentSplitMb(process.pid);
    expect(anon_mb).toBeGreaterThan(0);
    expect(file_mb).toBeGreaterThanOrEqual(0);
  });
});
