import { choiceHasDelta } from "../../shared/formats/chat/types.ts";
import type { ChatCompletionRequest } from "../../shared/schemas/chat.ts";
import { providerChatStream } from "../providers/dispatch.ts";
import { rulesChat, rulesChatChunks } from "../providers/rules/chat.ts";
import type { ChatCall, ChatChunk } from "../providers/types.ts";

export type StreamOutcome = "ok" | "failed" | "neutral";

/**
 * A stream opened up to its first token. `head` holds the chunks read so far (role chunk, first token);
 * `rest` yields the remainder. Whoever drains it calls `finish` once, which settles `outcome` for the
 * balancer (a stream that breaks after the first token counts against its endpoint).
 */
export interface StreamHandle {
  head: ChatChunk[];
  rest: AsyncGenerator<ChatChunk>;
  firstTokenAt: number;
  outcome: Promise<StreamOutcome>;
  finish(outcome: StreamOutcome): void;
}

/** A stream commits at its first delta of any kind: text, a tool call, a refusal, logprobs or a finish. */
const isFirstToken = (chunk: ChatChunk) => chunk.choices?.some(choiceHasDelta) ?? false;

async function* empty(): AsyncGenerator<ChatChunk> {}

function settle(): Pick<StreamHandle, "outcome" | "finish"> {
  let resolve: (outcome: StreamOutcome) => void = () => {};
  const outcome = new Promise<StreamOutcome>((r) => {
    resolve = r;
  });
  let done = false;
  return {
    outcome,
    finish(value) {
      if (done) return;
      done = true;
      resolve(value);
    },
  };
}

/** Opens an upstream stream and reads it up to the first token; any failure before that throws. */
export async function openStream(call: ChatCall): Promise<StreamHandle> {
  const upstream = providerChatStream(call);
  const head: ChatChunk[] = [];
  try {
    for (;;) {
      const next = await upstream.next();
      if (next.done) break;
      head.push(next.value);
      if (isFirstToken(next.value)) break;
    }
  } catch (error: unknown) {
    await upstream.return(undefined).catch(() => undefined);
    throw error;
  }
  return { head, rest: upstream, firstTokenAt: Date.now(), ...settle() };
}

/** The `rules` answer as an already complete stream. */
export function rulesStream(request: ChatCompletionRequest, requestId: string): StreamHandle {
  const { rule: _rule, ...completion } = rulesChat(request, requestId);
  const handle = { head: rulesChatChunks(completion), rest: empty(), firstTokenAt: Date.now(), ...settle() };
  handle.finish("ok");
  return handle;
}
