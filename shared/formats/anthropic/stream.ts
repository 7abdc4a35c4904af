import type { Chunk, ToolCallDelta, Usage } from "../chat/types.ts";
import { sseEvent } from "../sse.ts";
import type { ChunkTranslator } from "../translate-stream.ts";
import { anthropicUsage, messageIdOf, stopReasonOf } from "./from-chat.ts";

/** The content block open at the moment: text, or the tool call at a chat tool-call index. */
type OpenBlock = { kind: "text" } | { kind: "tool"; callIndex: number };

/**
 * Translates a chat stream (its first choice) into Anthropic's Messages events: `message_start`,
 * per block `content_block_start` / `_delta` (`text_delta`, `input_json_delta`) / `_stop`, then
 * `message_delta` with the stop reason and usage, and `message_stop`. A broken stream ends with an
 * `error` event.
 */
export class MessagesStreamTranslator implements ChunkTranslator {
  private started = false;
  private blockIndex = -1;
  private open: OpenBlock | null = null;
  private finishReason: string | null = null;
  private usage: Usage | null = null;

  constructor(private readonly model: string) {}

  private event(type: string, fields: Record<string, unknown>): string {
    return sseEvent({ type, ...fields }, type);
  }

  private start(chunk: Chunk): string {
    if (this.started) return "";
    this.started = true;
    const message = {
      id: messageIdOf(chunk.id),
      type: "message",
      role: "assistant",
      model: chunk.model || this.model,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: { input_tokens: 0, output_tokens: 0 },
    };
    return this.event("message_start", { message });
  }

  private closeBlock(): string {
    if (!this.open) return "";
    this.open = null;
    return this.event("content_block_stop", { index: this.blockIndex });
  }

  private openBlock(block: OpenBlock, contentBlock: Record<string, unknown>): string {
    const out = this.closeBlock();
    this.blockIndex++;
    this.open = block;
    return out + this.event("content_block_start", { index: this.blockIndex, content_block: contentBlock });
  }

  private text(text: string): string {
    const out =
      this.open?.kind === "text" ? "" : this.openBlock({ kind: "text" }, { type: "text", text: "" });
    return (
      out + this.event("content_block_delta", { index: this.blockIndex, delta: { type: "text_delta", text } })
    );
  }

  private toolCall(delta: ToolCallDelta): string {
    let out = "";
    if (this.open?.kind !== "tool" || this.open.callIndex !== delta.index) {
      out += this.openBlock(
        { kind: "tool", callIndex: delta.index },
        {
          type: "tool_use",
          id: delta.id ?? `toolu_${delta.index}`,
          name: delta.function?.name ?? "",
          input: {},
        },
      );
    }
    const json = delta.function?.arguments ?? "";
    if (!json) return out;
    return (
      out +
      this.event("content_block_delta", {
        index: this.blockIndex,
        delta: { type: "input_json_delta", partial_json: json },
      })
    );
  }

  chunk(chunk: Chunk): string {
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      if (choice.delta.content) out += this.text(choice.delta.content);
      for (const call of choice.delta.tool_calls ?? []) out += this.toolCall(call);
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    return out;
  }

  end(): string {
    let out = this.started
      ? ""
      : this.start({
          id: "chatcmpl-empty",
          object: "chat.completion.chunk",
          created: 0,
          model: this.model,
          choices: [],
        });
    out += this.closeBlock();
    out += this.event("message_delta", {
      delta: { stop_reason: stopReasonOf(this.finishReason), stop_sequence: null },
      usage: anthropicUsage(this.usage),
    });
    return out + this.event("message_stop", {});
  }

  fail(message: string, _code: string): string {
    return this.event("error", { error: { type: "api_error", message } });
  }
}
