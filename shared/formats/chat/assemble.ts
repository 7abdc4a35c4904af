import {
  type ChunkChoice,
  type Completion,
  type CompletionChoice,
  choiceHasDelta,
  chunkSchema,
  type ToolCall,
  type ToolCallDelta,
  type Usage,
} from "./types.ts";

export type ChunkVerdict = "done" | "token" | "empty" | "malformed";

/** What one choice has received so far. */
interface ChoiceState {
  content: string | null;
  refusal: string | null;
  toolCalls: ToolCall[];
  logprobs: { content: unknown[] | null; refusal: unknown[] | null } | null;
  finishReason: string | null;
}

function newChoice(): ChoiceState {
  return { content: null, refusal: null, toolCalls: [], logprobs: null, finishReason: null };
}

/** Merges one streamed tool-call fragment into the call at its index. */
function mergeToolCall(calls: ToolCall[], delta: ToolCallDelta): void {
  let call = calls[delta.index];
  if (!call) {
    call = { id: delta.id ?? "", type: delta.type ?? (delta.custom ? "custom" : "function") };
    calls[delta.index] = call;
  }
  if (delta.id) call.id = delta.id;
  if (delta.type) call.type = delta.type;
  if (delta.function) {
    call.function ??= { name: "", arguments: "" };
    call.function.name += delta.function.name ?? "";
    call.function.arguments += delta.function.arguments ?? "";
  }
  if (delta.custom) {
    call.custom ??= { name: "", input: "" };
    call.custom.name += delta.custom.name ?? "";
    call.custom.input += delta.custom.input ?? "";
  }
}

/** Appends a chunk's token log probabilities to a choice's lists. */
function mergeLogprobs(state: ChoiceState, logprobs: ChunkChoice["logprobs"]): void {
  if (!logprobs) return;
  state.logprobs ??= { content: null, refusal: null };
  if (logprobs.content) state.logprobs.content = [...(state.logprobs.content ?? []), ...logprobs.content];
  if (logprobs.refusal) state.logprobs.refusal = [...(state.logprobs.refusal ?? []), ...logprobs.refusal];
}

/**
 * Rebuilds a `chat.completion` from the chunks of a stream, so a completed stream can be cached and
 * replayed: every choice (`n`), text, refusals, tool calls (fragments merged by index) and log
 * probabilities. A stream with audio is not rebuilt (not cached).
 */
export class CompletionAssembler {
  private first: { id: string; created: number; model: string; fingerprint?: string | null } | undefined;
  private serviceTier: string | null | undefined;
  private readonly choices = new Map<number, ChoiceState>();
  private usage: Usage | null = null;
  private cacheable = true;
  private done = false;

  /** Classifies one `data` payload and records it. `token` means the client has something to show. */
  add(data: string): ChunkVerdict {
    if (data.trim() === "[DONE]") {
      this.done = true;
      return "done";
    }
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return "malformed";
    }
    const parsed = chunkSchema.safeParse(json);
    if (!parsed.success) return "malformed";
    const chunk = parsed.data;
    this.first ??= {
      id: chunk.id,
      created: chunk.created,
      model: chunk.model,
      fingerprint: chunk.system_fingerprint,
    };
    if (chunk.service_tier !== undefined) this.serviceTier = chunk.service_tier;
    if (chunk.usage) this.usage = chunk.usage;
    let token = false;
    for (const choice of chunk.choices) {
      this.record(choice);
      if (choiceHasDelta(choice)) token = true;
    }
    return token ? "token" : "empty";
  }

  private record(choice: ChunkChoice): void {
    let state = this.choices.get(choice.index);
    if (!state) {
      state = newChoice();
      this.choices.set(choice.index, state);
    }
    const { delta } = choice;
    if (typeof delta.content === "string") state.content = (state.content ?? "") + delta.content;
    if (typeof delta.refusal === "string") state.refusal = (state.refusal ?? "") + delta.refusal;
    for (const call of delta.tool_calls ?? []) mergeToolCall(state.toolCalls, call);
    if ("audio" in delta && delta.audio) this.cacheable = false;
    mergeLogprobs(state, choice.logprobs);
    if (choice.finish_reason) state.finishReason = choice.finish_reason;
  }

  /** The whole completion, once `[DONE]` arrived and every choice finished; null otherwise. */
  completion(): Completion | null {
    if (!this.done || !this.cacheable || !this.first || this.choices.size === 0) return null;
    const choices: CompletionChoice[] = [];
    for (const [index, state] of [...this.choices.entries()].sort((a, b) => a[0] - b[0])) {
      if (state.finishReason === null) return null;
      const toolCalls = state.toolCalls.filter((call) => call !== undefined);
      choices.push({
        index,
        message: {
          role: "assistant",
          content: state.content ?? (toolCalls.length > 0 ? null : ""),
          ...(state.refusal !== null ? { refusal: state.refusal } : {}),
          ...(toolCalls.length > 0 ? { tool_calls: toolCalls } : {}),
        },
        logprobs: state.logprobs,
        finish_reason: state.finishReason,
      });
    }
    return {
      id: this.first.id,
      object: "chat.completion",
      created: this.first.created,
      model: this.first.model,
      ...(this.first.fingerprint ? { system_fingerprint: this.first.fingerprint } : {}),
      ...(this.serviceTier ? { service_tier: this.serviceTier } : {}),
      choices,
      usage: this.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    };
  }
}
