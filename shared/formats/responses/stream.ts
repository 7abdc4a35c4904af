import type { ResponsesRequest } from "../../schemas/responses.ts";
import type { Chunk, ToolCallDelta, Usage } from "../chat/types.ts";
import { sseEvent } from "../sse.ts";
import type { ChunkTranslator } from "../translate-stream.ts";
import {
  echoedSettings,
  incompleteDetails,
  messageItem,
  type OutputItem,
  responseIdOf,
  responsesUsage,
} from "./from-chat.ts";

interface OpenCall {
  outputIndex: number;
  item: OutputItem & { call_id: string; name: string; arguments: string };
}

/**
 * Translates a chat stream (its first choice) into Responses API events: `response.created`, then per
 * output item `output_item.added`, its deltas and `.done` events, then `response.completed` (or
 * `response.incomplete` when the token limit cut it). A broken stream ends with an `error` event.
 */
export class ResponsesStreamTranslator implements ChunkTranslator {
  private sequence = 0;
  private head: { id: string; created: number; model: string } | undefined;
  private readonly items: OutputItem[] = [];
  private text: { outputIndex: number; id: string; text: string; logprobs: unknown[] } | undefined;
  private readonly calls = new Map<number, OpenCall>();
  private finishReason: string | null = null;
  private usage: Usage | null = null;

  constructor(private readonly request: ResponsesRequest) {}

  private event(type: string, fields: Record<string, unknown>): string {
    return sseEvent({ type, sequence_number: this.sequence++, ...fields }, type);
  }

  private response(status: string, output: OutputItem[]) {
    const head = this.head ?? {
      id: "resp_empty",
      created: Math.floor(Date.now() / 1000),
      model: this.request.model,
    };
    const incomplete = status === "incomplete" ? incompleteDetails(this.finishReason) : null;
    return {
      id: head.id,
      object: "response",
      created_at: head.created,
      status,
      incomplete_details: incomplete,
      model: head.model,
      output,
      usage: status === "in_progress" ? null : responsesUsage(this.usage),
      ...echoedSettings(this.request),
    };
  }

  private start(chunk: Chunk): string {
    if (this.head) return "";
    this.head = { id: responseIdOf(chunk.id), created: chunk.created, model: chunk.model };
    const response = this.response("in_progress", []);
    return this.event("response.created", { response }) + this.event("response.in_progress", { response });
  }

  private textDelta(delta: string, logprobs: unknown[]): string {
    let out = "";
    if (!this.text) {
      const id = `msg_${this.head?.id ?? "resp"}`;
      this.text = { outputIndex: this.items.length, id, text: "", logprobs: [] };
      const item = { type: "message", id, status: "in_progress", role: "assistant", content: [] };
      this.items.push(item);
      out += this.event("response.output_item.added", { output_index: this.text.outputIndex, item });
      out += this.event("response.content_part.added", {
        item_id: id,
        output_index: this.text.outputIndex,
        content_index: 0,
        part: { type: "output_text", text: "", annotations: [], logprobs: [] },
      });
    }
    this.text.text += delta;
    this.text.logprobs.push(...logprobs);
    return (
      out +
      this.event("response.output_text.delta", {
        item_id: this.text.id,
        output_index: this.text.outputIndex,
        content_index: 0,
        delta,
        logprobs,
      })
    );
  }

  private callDelta(delta: ToolCallDelta): string {
    let call = this.calls.get(delta.index);
    let out = "";
    if (!call) {
      const callId = delta.id ?? `call_${delta.index}`;
      const item = {
        type: "function_call",
        id: `fc_${callId}`,
        call_id: callId,
        name: delta.function?.name ?? "",
        arguments: "",
        status: "in_progress",
      };
      call = { outputIndex: this.items.length, item };
      this.calls.set(delta.index, call);
      this.items.push(item);
      out += this.event("response.output_item.added", { output_index: call.outputIndex, item: { ...item } });
    } else if (delta.function?.name) {
      call.item.name += delta.function.name;
    }
    const args = delta.function?.arguments ?? "";
    if (!args) return out;
    call.item.arguments += args;
    return (
      out +
      this.event("response.function_call_arguments.delta", {
        item_id: call.item.id,
        output_index: call.outputIndex,
        delta: args,
      })
    );
  }

  chunk(chunk: Chunk): string {
    let out = this.start(chunk);
    if (chunk.usage) this.usage = chunk.usage;
    for (const choice of chunk.choices) {
      if (choice.index !== 0) continue;
      if (choice.delta.content) out += this.textDelta(choice.delta.content, choice.logprobs?.content ?? []);
      for (const call of choice.delta.tool_calls ?? []) out += this.callDelta(call);
      if (choice.finish_reason) this.finishReason = choice.finish_reason;
    }
    return out;
  }

  /** The `.done` events of every open item, in output order; returns the finished items. */
  private closeItems(): { events: string; output: OutputItem[] } {
    let events = "";
    const output: OutputItem[] = [];
    for (const [outputIndex, item] of this.items.entries()) {
      if (this.text && this.text.outputIndex === outputIndex) {
        const { id, text, logprobs } = this.text;
        events += this.event("response.output_text.done", {
          item_id: id,
          output_index: outputIndex,
          content_index: 0,
          text,
          logprobs,
        });
        const done = messageItem(id, text, logprobs);
        events += this.event("response.content_part.done", {
          item_id: id,
          output_index: outputIndex,
          content_index: 0,
          part: done.content[0],
        });
        events += this.event("response.output_item.done", { output_index: outputIndex, item: done });
        output.push(done);
        continue;
      }
      const done = { ...item, status: "completed" };
      events += this.event("response.function_call_arguments.done", {
        item_id: item.id,
        output_index: outputIndex,
        name: item.name,
        arguments: item.arguments,
      });
      events += this.event("response.output_item.done", { output_index: outputIndex, item: done });
      output.push(done);
    }
    return { events, output };
  }

  end(): string {
    let out = this.head
      ? ""
      : this.start({
          id: "chatcmpl-empty",
          object: "chat.completion.chunk",
          created: Math.floor(Date.now() / 1000),
          model: this.request.model,
          choices: [],
        });
    const closed = this.closeItems();
    out += closed.events;
    const incomplete = incompleteDetails(this.finishReason) !== null;
    const status = incomplete ? "incomplete" : "completed";
    return out + this.event(`response.${status}`, { response: this.response(status, closed.output) });
  }

  fail(message: string, code: string): string {
    return this.event("error", { code, message, param: null });
  }
}
