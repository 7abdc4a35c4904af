import { isRetryable } from "../../shared/dependency-error.ts";
import { type RequestEvent, requestEventSchema } from "../../shared/events.ts";
import type { Spool } from "./spool.ts";

/** Sends one batch to Kafka; throws a DependencyError (retryable or not) when it fails. */
export type SendEvents = (events: RequestEvent[]) => Promise<void>;

/** Options of {@link drainSpool}. */
export interface DrainOptions {
  spool: Spool;
  send: SendEvents;
  /** Records read and sent per round. */
  batchSize: number;
  /** Told about events that will never be sent (unreadable lines, events Kafka refuses for good). */
  onLost: (count: number, reason: unknown) => void;
  /** Told after each committed round, with the records it covered. */
  onProgress?: (records: number) => void;
  /** Checked before each round; true ends the drain early. */
  stopped?: () => boolean;
  /** Awaited before each read, so appends already issued are read in this drain. */
  beforeRead?: () => Promise<void>;
}

/** Thrown when the spool holds records it cannot read yet (a caller retries it later with backoff). */
export class SpoolNotReadable extends Error {
  override readonly name = "SpoolNotReadable";
}

/**
 * Sends a spool's records oldest first until it is empty, committing after each delivered round.
 * A retryable send failure is thrown (the caller retries with backoff; the spool keeps the round). A
 * non-retryable failure is narrowed down by halving the round until the events Kafka refuses stand
 * alone; those are reported lost and the rest go on, so one bad event never holds back the spool.
 * Events too large for a Kafka message never reach the spool (the producer drops them up front).
 */
export async function drainSpool(options: DrainOptions): Promise<void> {
  for (;;) {
    if (options.stopped?.()) return;
    await options.beforeRead?.();
    const { records, corrupt, position } = await options.spool.read(options.batchSize);
    const events = records.flatMap((record) => {
      const parsed = requestEventSchema.safeParse(record);
      return parsed.success ? [parsed.data] : [];
    });
    const unreadable = corrupt + records.length - events.length;
    if (unreadable > 0) options.onLost(unreadable, new Error("unreadable spool lines"));
    if (events.length > 0) await sendIsolating(events, options);
    await options.spool.commit(position);
    options.onProgress?.(records.length + corrupt);
    if (options.spool.isEmpty()) return;
    if (records.length === 0 && corrupt === 0)
      throw new SpoolNotReadable("spool holds records not readable yet");
  }
}

/**
 * Sends `events`; on a non-retryable failure, halves until the refused events stand alone. They count as
 * lost only if other events of the round got through: when nothing does, the failure is not about
 * particular events (a revoked credential, say) and is thrown, so the round stays in the spool.
 */
async function sendIsolating(events: RequestEvent[], options: DrainOptions): Promise<void> {
  const refused: { error: unknown }[] = [];
  const delivered = await sendOrSplit(events, options.send, refused);
  if (refused.length === 0) return;
  if (delivered === 0) throw refused[0]?.error;
  options.onLost(refused.length, refused[0]?.error);
}

async function sendOrSplit(
  events: RequestEvent[],
  send: SendEvents,
  refused: { error: unknown }[],
): Promise<number> {
  try {
    await send(events);
    return events.length;
  } catch (error: unknown) {
    if (isRetryable(error)) throw error;
    if (events.length === 1) {
      refused.push({ error });
      return 0;
    }
    const half = Math.ceil(events.length / 2);
    return (
      (await sendOrSplit(events.slice(0, half), send, refused)) +
      (await sendOrSplit(events.slice(half), send, refused))
    );
  }
}
