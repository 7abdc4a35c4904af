import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { levels } from "./model.ts";

/**
 * One labelled prompt (a line of a routing set): the text (or chat messages, whose user turns are
 * joined), the cheapest tier that suffices, and optionally its task class and an id.
 */
export const labelledPromptSchema = z
  .object({
    id: z.string().optional(),
    prompt: z.string().min(1).optional(),
    messages: z.array(z.object({ role: z.string(), content: z.string() })).optional(),
    tier: z.enum(levels),
    category: z.string().min(1).optional(),
  })
  .refine((p) => p.prompt !== undefined || (p.messages?.length ?? 0) > 0, {
    message: "a line needs `prompt` or `messages`",
  });
export type LabelledPromptLine = z.infer<typeof labelledPromptSchema>;

export interface LabelledPrompt {
  id: string;
  text: string;
  tier: (typeof levels)[number];
  category?: string;
}

/** The text a classifier sees: the prompt, or the user turns of `messages` joined by blank lines. */
function textOf(line: LabelledPromptLine): string {
  if (line.prompt !== undefined) return line.prompt;
  return (line.messages ?? [])
    .filter((m) => m.role === "user")
    .map((m) => m.content)
    .join("\n\n");
}

/** Reads a JSONL routing set; a bad line throws with its line number. */
export function readLabelledPrompts(file: string): LabelledPrompt[] {
  const out: LabelledPrompt[] = [];
  readFileSync(file, "utf8")
    .split("\n")
    .forEach((raw, i) => {
      if (raw.trim() === "") return;
      const parsed = labelledPromptSchema.safeParse(JSON.parse(raw));
      if (!parsed.success)
        throw new Error(`${file}:${i + 1}: ${parsed.error.issues[0]?.message ?? "invalid"}`);
      const line = parsed.data;
      out.push({
        id: line.id ?? `line-${i + 1}`,
        text: textOf(line),
        tier: line.tier,
        ...(line.category ? { category: line.category } : {}),
      });
    });
  return out;
}

/** The fixed split rule: the low bit of the first byte of sha256(text) — 0 is tune, 1 is test. */
export function splitOf(text: string): "tune" | "test" {
  return (createHash("sha256").update(text).digest()[0] ?? 0) & 1 ? "test" : "tune";
}

/** The tune and test halves of a set. */
export function splitPrompts(prompts: readonly LabelledPrompt[]): {
  tune: LabelledPrompt[];
  test: LabelledPrompt[];
} {
  return {
    tune: prompts.filter((p) => splitOf(p.text) === "tune"),
    test: prompts.filter((p) => splitOf(p.text) === "test"),
  };
}
