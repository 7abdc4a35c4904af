import { headers } from "../../shared/headers.ts";
import { randomNonce, sha256Hex, sign } from "../../shared/signing.ts";

export interface DriftSchedulerOptions {
  /** The pool's base URL (the supervisor's own workers). */
  poolUrl: string;
  signingSecret: string;
  periodMs: number;
  /** Per call; default 60 s. */
  timeoutMs?: number;
  /** The signed job endpoint to call; default the drift job's. Routing's feedback learning uses its own. */
  path?: string;
  onResult?: (status: number, body: string) => void;
  onError?: (error: unknown) => void;
}

const driftPath = "/internal/v1/drift/run";

/** One signed drift run request, exactly as the edge's cron trigger sends it. */
export async function triggerDriftRun(options: DriftSchedulerOptions, now: number): Promise<Response> {
  const path = options.path ?? driftPath;
  const body = JSON.stringify({ now, trigger: `scheduler@${now}` });
  const timestamp = Date.now();
  const nonce = randomNonce();
  const signature = await sign(options.signingSecret, {
    method: "POST",
    path,
    timestamp,
    nonce,
    bodySha256: await sha256Hex(body),
  });
  return fetch(`${options.poolUrl}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      [headers.requestId]: `drift_scheduler_${now}`,
      [headers.timestamp]: String(timestamp),
      [headers.nonce]: nonce,
      [headers.signature]: signature,
    },
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 60_000),
  });
}

/**
 * The Bun-side trigger for deployments without Workers cron: every `periodMs` it asks the pool to run the
 * drift job (ticks never overlap). Running it next to the cron is safe: the pool's Postgres lease lets one
 * run at a time, and a window already evaluated is not evaluated again. Returns `stop`.
 */
export function startDriftScheduler(options: DriftSchedulerOptions): () => void {
  let running = false;
  const tick = async () => {
    if (running) return;
    running = true;
    try {
      const response = await triggerDriftRun(options, Date.now());
      options.onResult?.(response.status, await response.text());
    } catch (error: unknown) {
      options.onError?.(error);
    } finally {
      running = false;
    }
  };
  const timer = setInterval(() => void tick(), options.periodMs);
  return () => clearInterval(timer);
}
