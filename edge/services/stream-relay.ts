import type { SpendReport } from "../../shared/schemas/spend.ts";
import type { FailureReason } from "./pool-client.ts";
import { CompletionAssembler, SpendSseParser, sseErrorEvent } from "./sse.ts";

export type RelayStart =
  | { ok: false; reason: FailureReason; detail: string }
  | {
      ok: true;
      /** The client's stream: what arrived so far, then the rest passed through as it comes. */
      body: ReadableStream<Uint8Array>;
      /** The rebuilt completion JSON once the stream completed cleanly; null if it failed. */
      completed: Promise<string | null>;
      /** What the pool reported the answer cost (its trailer), once the stream has ended. */
      spend(): SpendReport | null;
    };

function failureOf(deadlineSignal: AbortSignal): { reason: FailureReason; detail: string } {
  return deadlineSignal.aborted
    ? { reason: "deadline_exceeded", detail: "deadline passed while streaming" }
    : { reason: "upstream_error", detail: "the stream broke" };
}

/**
 * Relays the pool's SSE stream to the client without buffering, except that nothing is sent until the
 * first token: a failure before it returns `ok: false` so the caller can fall back cleanly. A failure
 * after it (broken connection, deadline, malformed chunk, missing `[DONE]`) ends the stream with an
 * SSE error event.
 */
export async function startRelay(
  upstream: ReadableStream<Uint8Array>,
  deadlineSignal: AbortSignal,
  requestId: string,
): Promise<RelayStart> {
  const reader = upstream.getReader();
  const parser = new SpendSseParser();
  const assembler = new CompletionAssembler();
  const prefix: Uint8Array[] = [];
  let sawDone = false;

  const absorb = (bytes: Uint8Array): "token" | "malformed" | "none" => {
    let verdict: "token" | "malformed" | "none" = "none";
    for (const data of parser.push(bytes)) {
      const v = assembler.add(data);
      if (v === "malformed") return "malformed";
      if (v === "done") sawDone = true;
      if (v === "token" || v === "done") verdict = "token";
    }
    return verdict;
  };

  // Wait for the first token (or a failure) before answering anything.
  for (;;) {
    const chunk = await reader.read().catch(() => null);
    if (!chunk) return { ok: false, ...failureOf(deadlineSignal) };
    if (chunk.done) {
      return { ok: false, reason: "malformed_response", detail: "the stream ended before any token" };
    }
    prefix.push(chunk.value);
    const verdict = absorb(chunk.value);
    if (verdict === "malformed") {
      await reader.cancel().catch(() => undefined);
      return { ok: false, reason: "malformed_response", detail: "a chunk was not a chat.completion.chunk" };
    }
    if (verdict === "token") break;
  }

  let settle: (value: string | null) => void = () => {};
  const completed = new Promise<string | null>((resolve) => {
    settle = resolve;
  });
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, code: string, message: string) => {
    controller.enqueue(sseErrorEvent(message, code, requestId));
    controller.close();
    settle(null);
    reader.cancel().catch(() => undefined);
  };

  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      for (const bytes of prefix) controller.enqueue(bytes);
    },
    async pull(controller) {
      const chunk = await reader.read().catch(() => null);
      if (!chunk) {
        const failure = failureOf(deadlineSignal);
        fail(controller, failure.reason, `The upstream stream failed: ${failure.detail}.`);
        return;
      }
      if (chunk.done) {
        if (!sawDone) {
          fail(controller, "upstream_error", "The upstream stream ended before completing.");
          return;
        }
        controller.close();
        const completion = assembler.completion();
        settle(completion ? JSON.stringify(completion) : null);
        return;
      }
      if (absorb(chunk.value) === "malformed") {
        fail(controller, "malformed_response", "The upstream stream sent a malformed chunk.");
        return;
      }
      controller.enqueue(chunk.value);
    },
    cancel() {
      settle(null);
      return reader.cancel().catch(() => undefined);
    },
  });
  return { ok: true, body, completed, spend: () => parser.spend };
}
