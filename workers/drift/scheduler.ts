import { headers } from "../../shared/headers.ts";
import { signedHeaders } from "../../shared/signing.ts";

export interface DriftSchedulerOptions {
  /** The pool's base URL (the supervisor's own workers). */
  poolUrl: string;
  /** The secret of the admin credential the run is signed with (the drift run is an admin operation). */
  signingSecret: string;
  /** That credential's name in the pool's POOL_ADMIN_SECRETS; default `scheduler`. */
  credential?: string;
  periodMs: number;
  /** Per call; default 60 s. */
  timeoutMs?: number;
  /** The signed job endpoint to call; default the drift job's. Routing's feedback learning uses its own. */
  path?: string;
  onResult?: (status: number, body: string) => void;
  onError?: (error: unknown) => void;
}

const driftPath = "/internal/v1/drift/run";

/** One drift run request, signed with the admin credential like the edge's cron trigger. */
export async function triggerDriftRun(options: DriftSchedulerOptions, now: number): Promise<Response> {
  const path = options.path ?? driftPath;
  const body = JSON.stringify({ now, trigger: `scheduler@${now}` });
  const requestId = `drift_scheduler_${now}`;
  return fetch(`${options.poolUrl}${path}`, {
    method: "POST",
    headers: {
      "content-type": "application/json",
      ...(await signedHeaders(options.signingSecret, {
        method: "POST",
        pathAndQuery: path,
        body,
        headers: { [headers.requestId]: requestId },
        credential: options.credential ?? "scheduler",
      })),
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
