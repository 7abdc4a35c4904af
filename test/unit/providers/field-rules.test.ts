import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { type ChatCompletionRequest, chatCompletionRequestSchema } from "../../../shared/schemas/chat.ts";
import { anthropicFieldsFor } from "../../../workers/providers/anthropic/fields.ts";
import { toMessagesBody } from "../../../workers/providers/anthropic/request.ts";
import { bedrockFields } from "../../../workers/providers/bedrock/fields.ts";
import { toConverseBody } from "../../../workers/providers/bedrock/request.ts";
import { providerFieldTables } from "../../../workers/providers/field-rules.ts";
import { geminiFields } from "../../../workers/providers/gemini/fields.ts";
import { toGenerateContentBody } from "../../../workers/providers/gemini/request.ts";
import {
  chatFeatures,
  FieldRefusal,
  type FieldTable,
  type FieldVerdict,
  verdictOf,
} from "../../../workers/providers/native/field-rules.ts";
import { weatherTool } from "./native/helpers.ts";

const repoRoot = join(import.meta.dirname, "..", "..", "..");

/** Reads a README cell: its leading ✓ / drop / ✗, and a `streamed: X` override when it has one. */
function readCell(cell: string): { whole: FieldVerdict; streamed: FieldVerdict } {
  const verdict = (mark: string | undefined): FieldVerdict => {
    if (mark === "✓") return "pass";
    if (mark === "✗") return "refuse";
    if (mark === "drop") return "drop";
    throw new Error(`unreadable README cell: '${cell}'`);
  };
  const whole = verdict(/^(✓|✗|drop)/.exec(cell)?.[1]);
  const streamed = /streamed: (✓|✗|drop)/.exec(cell)?.[1];
  return { whole, streamed: streamed ? verdict(streamed) : whole };
}

/** The providers README table: row label → provider column → cell text. */
function readmeTable(): Map<string, Record<string, string>> {
  const text = readFileSync(join(repoRoot, "workers", "providers", "README.md"), "utf8");
  const section = text.slice(text.indexOf("## Fields and features through tiergate"));
  const lines = section.split("\n").filter((l) => l.startsWith("| "));
  const split = (line: string) =>
    line
      .slice(2, -2)
      .split(" | ")
      .map((c) => c.trim());
  const [header = "", , ...rows] = lines;
  const columns = split(header).slice(1);
  const table = new Map<string, Record<string, string>>();
  for (const row of rows) {
    const [label = "", ...cells] = split(row);
    table.set(label, Object.fromEntries(columns.map((c, i) => [c, cells[i] ?? ""])));
  }
  return table;
}

describe("the providers README table", () => {
  const table = readmeTable();

  it("has a column per provider and a row per ruled feature", () => {
    const first = [...table.values()][0] ?? {};
    expect(Object.keys(first).sort()).toEqual(Object.keys(providerFieldTables).sort());
    for (const feature of chatFeatures) expect(table.has(feature.label), feature.label).toBe(true);
  });

  it.each(Object.entries(providerFieldTables))("states %s's rules as the data does", (provider, rules) => {
    for (const feature of chatFeatures) {
      const cell = readCell(table.get(feature.label)?.[provider] ?? "");
      const rule = rules[feature.key];
      expect({ feature: feature.key, ...cell }).toEqual({
        feature: feature.key,
        whole: verdictOf(rule, false),
        streamed: verdictOf(rule, true),
      });
    }
  });
});

const base: ChatCompletionRequest = {
  model: "m",
  max_tokens: 50,
  messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
};
const withTool: ChatCompletionRequest = { ...base, tools: [weatherTool] };
type UserPart = Extract<ChatCompletionRequest["messages"][number], { role: "user" }>["content"] extends
  | string
  | (infer P)[]
  ? P
  : never;
const userParts = (part: UserPart): ChatCompletionRequest["messages"] => [
  { role: "user", content: [{ type: "text", text: "hi" }, part] },
];

/** For each feature: a request without it and the same request with it. */
const samples: Record<string, { without: ChatCompletionRequest; with: Partial<ChatCompletionRequest> }> = {
  n: { without: base, with: { n: 3 } },
  logprobs: { without: base, with: { logprobs: true } },
  top_logprobs: { without: base, with: { top_logprobs: 2 } },
  logit_bias: { without: base, with: { logit_bias: { "42": 5 } } },
  response_format: {
    without: base,
    with: {
      response_format: { type: "json_schema", json_schema: { name: "x", schema: { type: "object" } } },
    },
  },
  temperature: { without: base, with: { temperature: 0.55 } },
  top_p: { without: base, with: { top_p: 0.77 } },
  top_k: { without: base, with: { top_k: 7 } },
  seed: { without: base, with: { seed: 424_242 } },
  presence_penalty: { without: base, with: { presence_penalty: 0.37 } },
  frequency_penalty: { without: base, with: { frequency_penalty: 0.41 } },
  min_p: { without: base, with: { min_p: 0.05 } },
  repetition_penalty: { without: base, with: { repetition_penalty: 1.1 } },
  parallel_tool_calls: { without: withTool, with: { parallel_tool_calls: false } },
  user: { without: base, with: { user: "user-marker" } },
  safety_identifier: { without: base, with: { safety_identifier: "safety-marker" } },
  metadata: { without: base, with: { metadata: { team: "metadata-marker" } } },
  store: { without: base, with: { store: true } },
  service_tier: { without: base, with: { service_tier: "flex" } },
  prompt_cache_key: { without: base, with: { prompt_cache_key: "cache-marker" } },
  prompt_cache_retention: { without: base, with: { prompt_cache_retention: "24h" } },
  reasoning_effort: { without: base, with: { reasoning_effort: "high" } },
  verbosity: { without: base, with: { verbosity: "low" } },
  prediction: { without: base, with: { prediction: { type: "content", content: "predicted" } } },
  modalities: { without: base, with: { modalities: ["text", "audio"] } },
  audio: { without: base, with: { audio: { format: "wav", voice: "alloy" } } },
  web_search_options: { without: base, with: { web_search_options: { search_context_size: "low" } } },
  functions: { without: base, with: { functions: [{ name: "legacy_fn" }] } },
  "messages[].content[].image_url": {
    without: {
      ...base,
      messages: userParts({ type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } }),
    },
    with: { messages: userParts({ type: "image_url", image_url: { url: "https://example.com/cat.png" } }) },
  },
  "messages[].content[].input_audio": {
    without: base,
    with: { messages: userParts({ type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } }) },
  },
  "messages[].content[].file": {
    without: base,
    with: { messages: userParts({ type: "file", file: { file_id: "file-abc" } }) },
  },
  "tools[].custom": {
    without: withTool,
    with: { tools: [weatherTool, { type: "custom", custom: { name: "run_sql" } }] },
  },
  "messages[].tool_calls[].custom": {
    without: base,
    with: {
      messages: [
        { role: "user", content: "count rows" },
        {
          role: "assistant",
          content: null,
          tool_calls: [{ id: "c1", type: "custom", custom: { name: "run_sql", input: "select 1" } }],
        },
        { role: "user", content: "thanks" },
      ],
    },
  },
  "tool_choice.custom": {
    without: withTool,
    with: { tool_choice: { type: "custom", custom: { name: "x" } } },
  },
  "tool_choice.allowed_tools": {
    without: withTool,
    with: {
      tool_choice: { type: "allowed_tools", allowed_tools: { mode: "auto", tools: [{ type: "function" }] } },
    },
  },
};

const builders: Record<
  string,
  { table: FieldTable; build: (r: ChatCompletionRequest, stream: boolean) => unknown }
> = {
  anthropic: {
    table: anthropicFieldsFor("2023-06-01"),
    build: (r, stream) => toMessagesBody(r, "claude", { stream, apiVersion: "2023-06-01" }),
  },
  "anthropic 2026-10-21": {
    table: anthropicFieldsFor("2026-10-21"),
    build: (r, stream) => toMessagesBody(r, "claude", { stream, apiVersion: "2026-10-21" }),
  },
  gemini: { table: geminiFields, build: (r, stream) => toGenerateContentBody(r, stream) },
  bedrock: { table: bedrockFields, build: (r, stream) => toConverseBody(r, stream) },
};

describe("each native adapter does what its table says", () => {
  const schema = chatCompletionRequestSchema();

  it("every feature has a sample, and every sample is a valid request that uses the feature", () => {
    expect(Object.keys(samples).sort()).toEqual(chatFeatures.map((f) => f.key).sort());
    for (const feature of chatFeatures) {
      const sample = samples[feature.key];
      if (!sample) continue;
      const using = schema.parse({ ...sample.without, ...sample.with });
      expect(feature.present(using), feature.key).toBe(true);
      expect(feature.present(schema.parse(sample.without)), feature.key).toBe(false);
    }
  });

  describe.each(Object.entries(builders))("%s", (_, { table, build }) => {
    it.each([false, true])("passes, drops or refuses each feature (streamed: %s)", (stream) => {
      for (const feature of chatFeatures) {
        const sample = samples[feature.key];
        if (!sample) throw new Error(`no sample for ${feature.key}`);
        const baseline = JSON.stringify(build(sample.without, stream));
        const request = { ...sample.without, ...sample.with };
        const verdict = verdictOf(table[feature.key], stream);
        if (verdict === "refuse") {
          expect(() => build(request, stream), feature.key).toThrow(FieldRefusal);
          const error = (() => {
            try {
              build(request, stream);
            } catch (e: unknown) {
              return e;
            }
          })();
          expect((error as FieldRefusal).field).toBe(feature.key);
          expect(error).toMatchObject({ failure: "rejected", status: 400, retryable: false });
          continue;
        }
        const body = JSON.stringify(build(request, stream));
        if (verdict === "drop") expect(body, `${feature.key} is dropped`).toBe(baseline);
        else expect(body, `${feature.key} is passed`).not.toBe(baseline);
      }
    });
  });
});
