import { z } from "zod";
import type { ChatCompletionResponse } from "../../shared/schemas/chat.ts";
import { parseSpendReport, type SpendReport, spendTrailerPrefix } from "../../shared/schemas/spend.ts";

/** Splits a byte stream of Server-Sent Events into the `data` payload of each event. */
export class SseParser {
  /** The pool's spend trailer (`: tiergate-spend …` comment), once it arrived. */
  spend: SpendReport | null = null;
  private buffer = "";
  private readonly decoder = new TextDecoder();

  push(bytes: Uint8Array): string[] {
    this.buffer += this.decoder.decode(bytes, { stream: true }).replaceAll("\r\n", "\n");
    const out: string[] = [];
    let end = this.buffer.indexOf("\n\n");
    while (end !== -1) {
      const event = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      if (event.startsWith(`: ${spendTrailerPrefix}`)) {
        this.spend = parseSpendReport(event.slice(2 + spendTrailerPrefix.length));
      }
      const data = event
        .split("\n")
        .filter((line) => line.startsWith("data:"))
        .map((line) => line.slice(5).replace(/^ /, ""));
      if (data.length > 0) out.push(data.join("\n"));
      end = this.buffer.indexOf("\n\n");
    }
    return out;
  }
}

const chunkSchema = z.object({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number(),
  model: z.string(),
  choices: z.array(
    z.object({
      index: z.number().int(),
      delta: z.object({
        role: z.string().optional(),
        content: z.string().nullable().optional(),
        tool_calls: z.array(z.unknown()).optional(),
      }),
      finish_reason: z.string().nullable().optional(),
    }),
  ),
  usage: z
    .object({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .nullable()
    .optional(),
});
type Chunk = z.infer<typeof chunkSchema>;

export type ChunkVerdict = "done" | "token" | "empty" | "malformed";

/**
 * Rebuilds a `chat.completion` from the chunks of a stream, so a completed stream can be cached and
 * replayed. Streams with tool calls or several choices are not rebuilt (not cached).
 */
export class CompletionAssembler {
  private first: Chunk | undefined;
  private content = "";
  private finishReason: string | null = null;
  private usage: Chunk["usage"] = null;
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
    this.first ??= chunk;
    if (chunk.usage) this.usage = chunk.usage;
    let token = false;
    for (const choice of chunk.choices) {
      if (choice.index !== 0 || choice.delta.tool_calls) this.cacheable = false;
      if (choice.delta.content) {
        this.content += choice.delta.content;
        token = true;
      }
      if (choice.delta.tool_calls) token = true;
      if (choice.finish_reason) {
        this.finishReason = choice.finish_reason;
        token = true;
      }
    }
    return token ? "token" : "empty";
  }

  /** The whole completion, once `[DONE]` arrived; null otherwise or when it cannot be cached. */
  completion(): ChatCompletionResponse | null {
    if (!this.done || !this.cacheable || !this.first || this.finishReason === null) return null;
    return {
      id: this.first.id,
      object: "chat.completion",
      created: this.first.created,
      model: this.first.model,
      choices: [
        {
          index: 0,
          message: { role: "assistant", content: this.content },
          finish_reason: this.finishReason,
        },
      ],
      usage: this.usage ?? { prompt_tokens: 0, completion_tokens: 0, total_tokens: 0 },
    };
  }
}

const encoder = new TextEncoder();

function event(data: unknown): string {
  return `data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;
}

/** A stored completion replayed as a stream, chunk by chunk as OpenAI sends them. */
export function completionAsSse(completion: ChatCompletionResponse, includeUsage: boolean): string {
  const base = {
    id: completion.id,
    object: "chat.completion.chunk",
    created: completion.created,
    model: completion.model,
  };
  const choice = completion.choices[0];
  let out = event({
    ...base,
    choices: [
      { index: 0, delta: { role: "assistant", content: choice?.message.content ?? "" }, finish_reason: null },
    ],
  });
  out += event({
    ...base,
    choices: [{ index: 0, delta: {}, finish_reason: choice?.finish_reason ?? "stop" }],
  });
  if (includeUsage) out += event({ ...base, choices: [], usage: completion.usage });
  return out + event("[DONE]");
}

/** The event that ends a stream which failed after its first token: never a silent truncation. */
export function sseErrorEvent(message: string, code: string, requestId: string): Uint8Array {
  return encoder.encode(
    event({ error: { message, type: "server_error", code, param: null, request_id: requestId } }),
  );
}
