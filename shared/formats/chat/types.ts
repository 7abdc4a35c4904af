import { z } from "zod";

/** A tool call as one complete object (in a completion's message). */
export interface ToolCall {
  id: string;
  type: string;
  function?: { name: string; arguments: string };
  custom?: { name: string; input: string };
}

/** Per-token log probabilities of a choice (`content` and `refusal` token lists). */
export interface ChoiceLogprobs {
  content?: unknown[] | null;
  refusal?: unknown[] | null;
}

/** One choice of a complete `chat.completion`. */
export interface CompletionChoice {
  index: number;
  message: {
    role: "assistant";
    content: string | null;
    refusal?: string | null;
    tool_calls?: ToolCall[];
  };
  logprobs?: ChoiceLogprobs | null;
  finish_reason: string | null;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  [detail: string]: unknown;
}

/** A complete `chat.completion` with every choice, tool call and log probability. */
export interface Completion {
  id: string;
  object: "chat.completion";
  created: number;
  model: string;
  system_fingerprint?: string | null;
  service_tier?: string | null;
  choices: CompletionChoice[];
  usage: Usage;
}

const toolCallDelta = z.looseObject({
  index: z.number().int().min(0),
  id: z.string().optional(),
  type: z.string().optional(),
  function: z.looseObject({ name: z.string().optional(), arguments: z.string().optional() }).optional(),
  custom: z.looseObject({ name: z.string().optional(), input: z.string().optional() }).optional(),
});

const logprobsSchema = z
  .looseObject({
    content: z.array(z.unknown()).nullable().optional(),
    refusal: z.array(z.unknown()).nullable().optional(),
  })
  .nullable()
  .optional();

/** A `chat.completion.chunk` as upstreams send it; fields this gateway does not rebuild are kept. */
export const chunkSchema = z.looseObject({
  id: z.string(),
  object: z.literal("chat.completion.chunk"),
  created: z.number(),
  model: z.string(),
  system_fingerprint: z.string().nullable().optional(),
  service_tier: z.string().nullable().optional(),
  choices: z.array(
    z.looseObject({
      index: z.number().int().min(0),
      delta: z.looseObject({
        role: z.string().nullable().optional(),
        content: z.string().nullable().optional(),
        refusal: z.string().nullable().optional(),
        tool_calls: z.array(toolCallDelta).nullable().optional(),
      }),
      logprobs: logprobsSchema,
      finish_reason: z.string().nullable().optional(),
    }),
  ),
  usage: z
    .looseObject({ prompt_tokens: z.number(), completion_tokens: z.number(), total_tokens: z.number() })
    .nullable()
    .optional(),
});
export type Chunk = z.infer<typeof chunkSchema>;
export type ChunkChoice = Chunk["choices"][number];
export type ToolCallDelta = z.infer<typeof toolCallDelta>;

/**
 * Whether a chunk's choice carries something for the client: any delta field beyond the role (text,
 * a refusal, a tool call, audio, reasoning), log probabilities or a finish reason. A stream commits
 * at the first such chunk.
 */
export function choiceHasDelta(choice: {
  delta?: Record<string, unknown> | null;
  logprobs?: unknown;
  finish_reason?: string | null;
}): boolean {
  if (choice.finish_reason) return true;
  if (choice.logprobs) return true;
  for (const [field, value] of Object.entries(choice.delta ?? {})) {
    if (field === "role" || value === null || value === undefined) continue;
    if (typeof value === "string" && value.length === 0) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    return true;
  }
  return false;
}
