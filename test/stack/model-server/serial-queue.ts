/** Thrown when the queue already holds its maximum of waiting jobs. */
export class QueueFullError extends Error {
  override readonly name = "QueueFullError";
}

/** Thrown when a waiting job's signal aborts before the job got its turn. */
export class QueueAbortedError extends Error {
  override readonly name = "QueueAbortedError";
}

interface Waiter {
  label: string;
  begin: () => void;
}

/**
 * Runs jobs one at a time in arrival order. Counts running and waiting jobs per label (the model name),
 * which is what the server reports as vLLM's `num_requests_running` / `num_requests_waiting`.
 */
export class SerialQueue {
  private readonly waiters: Waiter[] = [];
  private runningLabel: string | undefined;

  constructor(private readonly maxWaiting: number) {}

  /** Waits for the slot, runs `job`, then hands the slot to the next waiter. */
  async run<T>(label: string, job: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.runningLabel !== undefined || this.waiters.length > 0) {
      await this.waitForTurn(label, signal);
    } else {
      this.runningLabel = label;
    }
    try {
      return await job();
    } finally {
      this.handOver();
    }
  }

  /** True when a new job would be refused with QueueFullError right now. */
  full(): boolean {
    return this.runningLabel !== undefined && this.waiters.length >= this.maxWaiting;
  }

  running(label?: string): number {
    if (this.runningLabel === undefined) return 0;
    return label === undefined || label === this.runningLabel ? 1 : 0;
  }

  waiting(label?: string): number {
    return label === undefined ? this.waiters.length : this.waiters.filter((w) => w.label === label).length;
  }

  private waitForTurn(label: string, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) return Promise.reject(new QueueAbortedError("request aborted before it started"));
    if (this.waiters.length >= this.maxWaiting) {
      return Promise.reject(new QueueFullError(`${this.waiters.length} requests already waiting`));
    }
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => {
        const index = this.waiters.indexOf(waiter);
        if (index >= 0) this.waiters.splice(index, 1);
        reject(new QueueAbortedError("request aborted while waiting"));
      };
      const waiter: Waiter = {
        label,
        begin: () => {
          signal?.removeEventListener("abort", onAbort);
          this.runningLabel = label;
          resolve();
        },
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.waiters.push(waiter);
    });
  }

  private handOver(): void {
    this.runningLabel = undefined;
    this.waiters.shift()?.begin();
  }
}
