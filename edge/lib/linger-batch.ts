/**
 * Items that concurrent requests queue, sent together: the first item starts a send `lingerMs` later,
 * items queued meanwhile join it, at most `maxPerCall` per `send`, until the queue is empty. Only the
 * request that started the send gets its promise, to hand to `waitUntil` (the I/O runs in that
 * request's context; no other request awaits it). If `send` throws, the queue is dropped and that
 * promise rejects with the error.
 */
export class LingerBatch<T> {
  private queue: T[] = [];
  private sending: Promise<void> | null = null;

  constructor(
    private readonly send: (batch: T[]) => Promise<void>,
    private readonly lingerMs: number,
    private readonly maxPerCall: number,
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  /** Queues an item; returns the send when this item started it, else null. */
  add(item: T): Promise<void> | null {
    this.queue.push(item);
    if (this.sending) return null;
    this.sending = this.sendSoon();
    return this.sending;
  }

  /**
   * Takes up to `max` queued items out now, for a caller that sends them itself (riding on a call it
   * makes anyway). The linger timer still runs and sends whatever is left then.
   */
  take(max = this.maxPerCall): T[] {
    return this.queue.splice(0, max);
  }

  private async sendSoon(): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, this.lingerMs));
    try {
      while (this.queue.length > 0) await this.send(this.queue.splice(0, this.maxPerCall));
    } catch (error: unknown) {
      this.queue = [];
      throw error;
    } finally {
      this.sending = null;
    }
  }
}
