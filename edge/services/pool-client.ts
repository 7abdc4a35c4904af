import { DependencyError } from "../../shared/dependency-error.ts";
import { headers } from "../../shared/headers.ts";
import { randomNonce, sha256Hex, sign } from "../../shared/signing.ts";

export interface Region {
  name: string;
  url: string;
}

interface RegionHealth {
  ewmaMs: number;
  errorRate: number;
  openUntil: number;
  consecutiveFailures: number;
}

export interface PoolCall {
  method: "GET" | "POST";
  path: string;
  body?: string;
  requestId: string;
  tenant?: string;
  keyId?: string;
  /** Absolute deadline, epoch ms. */
  deadline: number;
}

const ewmaAlpha = 0.2;
const breakerThreshold = 5;
const breakerOpenMs = 5_000;

/**
 * Signed calls from the edge to the regional pools. Picks the region with the best passive health
 * (EWMA latency, error rate) whose circuit is closed.
 */
export class PoolClient {
  private readonly health = new Map<string, RegionHealth>();

  constructor(
    private readonly regions: readonly Region[],
    private readonly signingSecret: string,
  ) {
    for (const region of regions) {
      this.health.set(region.name, { ewmaMs: 0, errorRate: 0, openUntil: 0, consecutiveFailures: 0 });
    }
  }

  /** Regions in the order they should be tried. */
  ranked(now = Date.now()): Region[] {
    const score = (r: Region) => {
      const h = this.health.get(r.name);
      if (!h) return Number.POSITIVE_INFINITY;
      const open = h.openUntil > now ? 1e9 : 0;
      return open + h.ewmaMs * (1 + 10 * h.errorRate);
    };
    return [...this.regions].sort((a, b) => score(a) - score(b));
  }

  /** Sends one signed call to the best region. Connection failures are retryable DependencyErrors. */
  async call(call: PoolCall, region = this.ranked()[0]): Promise<Response> {
    if (!region) throw new DependencyError("pool", false, "no regions configured");
    const timestamp = Date.now();
    const nonce = randomNonce();
    const body = call.body ?? "";
    const signature = await sign(this.signingSecret, {
      method: call.method,
      path: call.path,
      timestamp,
      nonce,
      bodySha256: await sha256Hex(body),
    });
    const outgoing: Record<string, string> = {
      [headers.requestId]: call.requestId,
      [headers.deadline]: String(call.deadline),
      [headers.timestamp]: String(timestamp),
      [headers.nonce]: nonce,
      [headers.signature]: signature,
    };
    if (call.body !== undefined) outgoing["content-type"] = "application/json";
    if (call.tenant) outgoing[headers.tenant] = call.tenant;
    if (call.keyId) outgoing[headers.keyId] = call.keyId;

    const started = Date.now();
    try {
      const response = await fetch(`${region.url}${call.path}`, {
        method: call.method,
        headers: outgoing,
        body: call.method === "POST" ? body : undefined,
        signal: AbortSignal.timeout(Math.max(1, call.deadline - started)),
      });
      this.record(region.name, Date.now() - started, response.status >= 500);
      return response;
    } catch (error: unknown) {
      this.record(region.name, Date.now() - started, true);
      const timedOut =
        error instanceof Error && (error.name === "TimeoutError" || error.name === "AbortError");
      throw new DependencyError(
        "pool",
        !timedOut,
        `${region.name}: ${timedOut ? "timed out" : "unreachable"}`,
        {
          cause: error,
        },
      );
    }
  }

  private record(name: string, ms: number, failed: boolean): void {
    const h = this.health.get(name);
    if (!h) return;
    h.ewmaMs = h.ewmaMs === 0 ? ms : h.ewmaMs + ewmaAlpha * (ms - h.ewmaMs);
    h.errorRate += ewmaAlpha * ((failed ? 1 : 0) - h.errorRate);
    h.consecutiveFailures = failed ? h.consecutiveFailures + 1 : 0;
    if (h.consecutiveFailures >= breakerThreshold) h.openUntil = Date.now() + breakerOpenMs;
  }
}
