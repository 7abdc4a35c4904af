import { DependencyError } from "../../shared/dependency-error.ts";
import { headers } from "../../shared/headers.ts";
import { createLogger, type Logger } from "../../shared/logger.ts";
import { formatAllowedModels, signedHeaders } from "../../shared/signing.ts";
import { type AdmissionPermit, overloaded } from "./admission.ts";
import { type RegionGate, regionsShed, shedByRegions, utilizationOf } from "./region-admission.ts";
import { type BreakerConfig, type Region, RegionHealth } from "./region-health.ts";

export type { Region };

export interface PoolCall {
  method: "GET" | "POST";
  path: string;
  body?: string;
  requestId: string;
  tenant?: string;
  keyId?: string;
  /** The key's allowed models (null: any). Sent signed whenever a tenant is, so the pool can enforce them. */
  allowedModels?: readonly string[] | null;
  /** The client's W3C `traceparent`, forwarded signed. */
  traceparent?: string;
  /** The client's own request id (validated), forwarded signed so the pool keeps it on the request row. */
  clientRequestId?: string | undefined;
  /** Signed directives for the pool: semantic cache (`ttl=…`) and payload logging (`days=…`). */
  semanticCache?: string | undefined;
  payloadLog?: string | undefined;
  /** Sign with the admin credential instead of the traffic secret (drift runs, registry changes). */
  admin?: boolean;
  /** What the edge's guardrails decided (JSON), for the pool's event of this request. */
  guardrailDecisions?: string | undefined;
  /** Absolute deadline, epoch ms: the whole call, body included, must finish by then. */
  deadline: number;
  /** When the client's request reached the edge (epoch ms): admission control learns queueing from it. */
  arrivedAt?: number;
  /**
   * True when sending the call twice does no harm (GETs, lookups): then any failure moves on to the
   * next region. Otherwise only failures where the pool did no work are retried elsewhere.
   */
  idempotent?: boolean;
  /**
   * False for auxiliary calls (key lookups): they neither feed passive health nor reset a breaker, which
   * judge whether a region can answer model calls. Open circuits are still skipped.
   */
  recordHealth?: boolean;
}

/** Why the pools could not answer; becomes the `x-fallback` header. */
export type FailureReason =
  | "upstream_unreachable"
  | "upstream_timeout"
  | "upstream_error"
  | "circuit_open"
  | "malformed_response"
  | "deadline_exceeded";

export type ForwardResult =
  | {
      ok: true;
      response: Response;
      region: string;
      /** Aborted when the overall deadline passes; body reads fail then. */
      deadlineSignal: AbortSignal;
      /** Call once the body has been consumed: feeds passive health. */
      settle(failed: boolean): void;
    }
  | { ok: false; reason: FailureReason; detail: string };

export interface PoolClientConfig {
  attemptTimeoutMs: number;
  breaker: BreakerConfig;
  /** The admin credential for admin calls (`admin: true`); without it they fail before any request. */
  admin?: { credential: string; secret: string };
  logger?: Logger;
  /** Admission control for client traffic (calls that feed health and are not admin calls). */
  admission?: { tryAcquire(arrivedAt?: number): AdmissionPermit | null };
  /** Per-region admission for the same traffic (edge/services/region-admission.ts). */
  regionAdmission?: RegionGate;
}

const defaultConfig: PoolClientConfig = {
  attemptTimeoutMs: 15_000,
  breaker: { failures: 5, openMs: 5_000 },
};

/** A region that answers 401 refused the signature (clock skew, a secret not rotated in): it did no work. */
const signatureRefused = 401;

type Attempt =
  | { kind: "response"; response: Response }
  | { kind: "unreachable" | "timeout" | "deadline"; detail: string };

/**
 * Signed calls from the edge to the regional pools. Tries regions best-first by passive health, skips
 * open circuits, and retries on another region only when that is safe:
 * - the connection failed (workerd reports refused and lost connections alike, as "Network connection
 *   lost"; the retry carries the same request id, so the pool can recognise a duplicate);
 * - the pool answered 503 (backpressure, draining, its nonce store down: it refused before any work);
 * - the pool answered 401: it refused the signature (clock skew, secret rotation) before any work.
 *   That is a region failure (logged, counted unhealthy), never the client's answer;
 * - any failure of an idempotent call.
 * A timeout or another 5xx of a non-idempotent call is final: the pool may have done the work.
 */
export class PoolClient {
  readonly health: RegionHealth;
  private readonly logger: Logger;

  constructor(
    regions: readonly Region[],
    private readonly signingSecret: string,
    private readonly config: PoolClientConfig = defaultConfig,
  ) {
    this.health = new RegionHealth(regions, config.breaker);
    this.logger = config.logger ?? createLogger({ bindings: { component: "pool-client" } });
  }

  /**
   * Forwards a call (see the class). Client traffic first needs a slot from admission control: past the
   * limit it throws OVERLOADED (503, Retry-After) at once rather than queue; the slot is released when
   * the caller settles the answer, when the call fails, or at the deadline at the latest.
   */
  async forward(call: PoolCall): Promise<ForwardResult> {
    const admission = call.recordHealth === false || call.admin ? undefined : this.config.admission;
    if (!admission) return this.forwardToRegions(call);
    const permit = admission.tryAcquire(call.arrivedAt);
    if (!permit) throw overloaded;
    let result: ForwardResult;
    try {
      result = await this.forwardToRegions(call, this.config.regionAdmission);
    } catch (error: unknown) {
      if (shedByRegions(error)) permit.cancel();
      else permit.release(true);
      throw error;
    }
    if (!result.ok) {
      permit.release(true);
      return result;
    }
    result.deadlineSignal.addEventListener("abort", () => permit.release(true), { once: true });
    const settle = result.settle;
    const poolUtilization = utilizationOf(result.response);
    result.settle = (failed) => {
      permit.release(failed, poolUtilization);
      settle(failed);
    };
    return result;
  }

  private async forwardToRegions(call: PoolCall, gate?: RegionGate): Promise<ForwardResult> {
    const record = (name: string, ms: number, failed: boolean) => {
      if (call.recordHealth !== false) this.health.record(name, ms, failed);
    };
    const candidates = this.health.available();
    if (candidates.length === 0) {
      return { ok: false, reason: "circuit_open", detail: "every region's circuit is open" };
    }
    const deadlineSignal = AbortSignal.timeout(Math.max(1, call.deadline - Date.now()));
    let last: { reason: FailureReason; detail: string } = {
      reason: "upstream_unreachable",
      detail: "no region tried",
    };
    let gated = 0;
    for (const region of candidates) {
      if (deadlineSignal.aborted)
        return { ok: false, reason: "deadline_exceeded", detail: "deadline passed" };
      const ticket = gate?.tryEnter(region.name);
      if (ticket === null) {
        gated++;
        continue;
      }
      const started = Date.now();
      const attempt = await this.attempt(region, call, deadlineSignal);
      ticket?.done(attempt.kind === "response" ? attempt.response : null);
      const elapsed = Date.now() - started;
      if (attempt.kind === "response") {
        const status = attempt.response.status;
        if (status === signatureRefused) {
          record(region.name, elapsed, true);
          await attempt.response.body?.cancel().catch(() => undefined);
          this.logger.warn("region refused the signature", {
            region: region.name,
            path: call.path,
            request_id: call.requestId,
          });
          last = { reason: "upstream_error", detail: `${region.name}: HTTP 401 (signature refused)` };
          continue;
        }
        if (status < 500) {
          let settled = false;
          return {
            ok: true,
            response: attempt.response,
            region: region.name,
            deadlineSignal,
            settle: (failed) => {
              if (settled) return;
              settled = true;
              record(region.name, Date.now() - started, failed);
            },
          };
        }
        record(region.name, elapsed, true);
        await attempt.response.body?.cancel().catch(() => undefined);
        last = { reason: "upstream_error", detail: `${region.name}: HTTP ${status}` };
        if (status !== 503 && !call.idempotent) return { ok: false, ...last };
        continue;
      }
      record(region.name, elapsed, true);
      if (attempt.kind === "deadline")
        return { ok: false, reason: "deadline_exceeded", detail: attempt.detail };
      if (attempt.kind === "timeout") {
        last = { reason: "upstream_timeout", detail: attempt.detail };
        if (!call.idempotent) return { ok: false, ...last };
        continue;
      }
      last = { reason: "upstream_unreachable", detail: attempt.detail };
    }
    if (gated === candidates.length) throw regionsShed();
    return { ok: false, ...last };
  }

  /**
   * One signed call to the best region, without fallback logic (scripts and tests). A failure to get
   * any response is a DependencyError, retryable unless it timed out.
   */
  async call(call: PoolCall): Promise<Response> {
    const region = this.health.available()[0];
    if (!region) throw new DependencyError("pool", true, "every region's circuit is open");
    const deadlineSignal = AbortSignal.timeout(Math.max(1, call.deadline - Date.now()));
    const started = Date.now();
    const attempt = await this.attempt(region, call, deadlineSignal);
    const failed =
      attempt.kind !== "response" ||
      attempt.response.status >= 500 ||
      attempt.response.status === signatureRefused;
    this.health.record(region.name, Date.now() - started, failed);
    if (attempt.kind === "response") return attempt.response;
    throw new DependencyError("pool", attempt.kind === "unreachable", attempt.detail);
  }

  private async attempt(region: Region, call: PoolCall, deadlineSignal: AbortSignal): Promise<Attempt> {
    const attemptTimer = new AbortController();
    const timer = setTimeout(() => attemptTimer.abort(), this.config.attemptTimeoutMs);
    try {
      const response = await fetch(`${region.url}${call.path}`, {
        method: call.method,
        headers: await this.signedHeaders(call),
        body: call.method === "POST" ? (call.body ?? "") : undefined,
        signal: AbortSignal.any([deadlineSignal, attemptTimer.signal]),
      });
      return { kind: "response", response };
    } catch (error: unknown) {
      if (deadlineSignal.aborted) return { kind: "deadline", detail: `${region.name}: deadline passed` };
      if (attemptTimer.signal.aborted)
        return { kind: "timeout", detail: `${region.name}: no answer in time` };
      const message = error instanceof Error ? error.message : String(error);
      return { kind: "unreachable", detail: `${region.name}: ${message}` };
    } finally {
      clearTimeout(timer);
    }
  }

  private async signedHeaders(call: PoolCall): Promise<Record<string, string>> {
    const credential = call.admin ? this.config.admin : undefined;
    if (call.admin && !credential) throw new Error("no admin credential configured for an admin call");
    const trusted: Record<string, string | undefined> = {
      [headers.requestId]: call.requestId,
      [headers.deadline]: String(call.deadline),
      [headers.tenant]: call.tenant,
      [headers.keyId]: call.keyId,
      [headers.traceparent]: call.traceparent,
      [headers.poolClientRequestId]: call.clientRequestId,
      [headers.guardrailDecisions]: call.guardrailDecisions,
      [headers.poolSemanticCache]: call.semanticCache,
      [headers.poolPayloadLog]: call.payloadLog,
    };
    if (call.tenant !== undefined) trusted[headers.allowedModels] = formatAllowedModels(call.allowedModels);
    const out = await signedHeaders(credential?.secret ?? this.signingSecret, {
      method: call.method,
      pathAndQuery: call.path,
      body: call.method === "POST" ? (call.body ?? "") : "",
      headers: trusted,
      ...(credential ? { credential: credential.credential } : {}),
    });
    if (call.method === "POST") out["content-type"] = "application/json";
    return out;
  }
}
