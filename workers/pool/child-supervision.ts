import { withRetry } from "../../shared/retry.ts";

/** How a supervised process is restarted. */
export interface RestartPolicy {
  /** First restart delay bound; the bound doubles per consecutive early exit (full jitter). */
  baseDelayMs: number;
  maxDelayMs: number;
  /** A process that ran at least this long was healthy: its exit starts a new streak (no delay). */
  stableMs: number;
}

export const defaultRestartPolicy: RestartPolicy = { baseDelayMs: 250, maxDelayMs: 30_000, stableMs: 60_000 };

/** How one run of a child ended. */
export interface ChildExit {
  code: number | null;
  signal?: string | number | null;
  /** How long it ran. */
  upMs: number;
}

/** What to do after a child exited. */
export type ExitVerdict = "stop-pool" | "restart-now" | "back-off";

/** Exit code 78 (EX_CONFIG): the child refused its configuration; restarting cannot help. */
export const configurationExitCode = 78;

/**
 * The restart decision for one exit: a configuration error stops the pool; a run that lasted `stableMs`
 * restarts at once with a fresh streak (so a child that crashes once a day is not delayed by old
 * crashes); an early exit backs off, longer with each consecutive one.
 */
export function exitVerdict(exit: ChildExit, policy: RestartPolicy = defaultRestartPolicy): ExitVerdict {
  if (exit.code === configurationExitCode) return "stop-pool";
  return exit.upMs >= policy.stableMs ? "restart-now" : "back-off";
}

class EarlyExit extends Error {
  override readonly name = "EarlyExit";
  constructor(readonly exit: ChildExit) {
    super(`exited after ${exit.upMs} ms (${exit.code ?? exit.signal})`);
  }
}

class PoolStop extends Error {
  override readonly name = "PoolStop";
}

/** Options of {@link superviseChild}. */
export interface SuperviseOptions {
  /** Starts the child and resolves when it exits. */
  run: () => Promise<ChildExit>;
  policy?: RestartPolicy;
  /** Ends supervision (no more restarts); a wait in progress ends at once. */
  signal: AbortSignal;
  /** Told before each restart, with the exit and its place in the current streak (1 = first early exit). */
  onRestart?: (exit: ChildExit, streak: number) => void;
}

/**
 * Runs a child and restarts it whenever it exits, until `signal` aborts. Early exits back off through
 * `withRetry` (attempts counted per streak); a stable run ends the streak, so the count starts over.
 * Resolves with "stop-pool" when the child refused its configuration, else "stopped".
 */
export async function superviseChild(options: SuperviseOptions): Promise<"stop-pool" | "stopped"> {
  const policy = options.policy ?? defaultRestartPolicy;
  while (!options.signal.aborted) {
    try {
      await withRetry(
        async () => {
          const exit = await options.run();
          if (options.signal.aborted) return;
          const verdict = exitVerdict(exit, policy);
          if (verdict === "stop-pool") throw new PoolStop();
          if (verdict === "back-off") throw new EarlyExit(exit);
          options.onRestart?.(exit, 0);
        },
        {
          attempts: Number.POSITIVE_INFINITY,
          baseDelayMs: policy.baseDelayMs,
          maxDelayMs: policy.maxDelayMs,
          shouldRetry: (error) => error instanceof EarlyExit,
          onRetry: (error, attempt) => {
            if (error instanceof EarlyExit) options.onRestart?.(error.exit, attempt);
          },
          signal: options.signal,
        },
      );
    } catch (error: unknown) {
      if (error instanceof PoolStop) return "stop-pool";
      if (!(error instanceof EarlyExit)) throw error;
    }
  }
  return "stopped";
}
