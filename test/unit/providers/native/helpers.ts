import type { ChatCompletionRequest } from "../../../../shared/schemas/chat.ts";
import type {
  ChatChunk,
  EndpointSpec,
  ProviderKind,
  ProviderOptions,
} from "../../../../workers/providers/types.ts";

/** An endpoint of a native provider on a conformance server. */
export function nativeEndpoint(input: {
  provider: ProviderKind;
  baseURL: string;
  apiKey: string;
  model: string;
  options?: ProviderOptions;
  id?: string;
}): EndpointSpec {
  return {
    id: input.id ?? `${input.provider}-0`,
    provider: input.provider,
    baseURL: input.baseURL,
    apiKey: input.apiKey,
    model: input.model,
    weight: 1,
    metricsURL: "",
    completions: false,
    ...(input.options ? { options: input.options } : {}),
  };
}

export const signal = () => new AbortController().signal;

export const hello: ChatCompletionRequest = {
  model: "auto",
  max_tokens: 50,
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: "hello there" },
  ],
};

export const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Weather of a city",
    parameters: { type: "object", properties: { query: { type: "string" } }, required: ["query"] },
  },
};

export const withTools: ChatCompletionRequest = {
  model: "auto",
  max_tokens: 50,
  messages: [{ role: "user", content: "weather in Paris" }],
  tools: [weatherTool],
};

/** The tool-call turn answered: the assistant's call and the tool's result. */
export function toolFollowUp(callId: string, args: string): ChatCompletionRequest {
  return {
    model: "auto",
    max_tokens: 50,
    tools: [weatherTool],
    messages: [
      { role: "user", content: "weather in Paris" },
      {
        role: "assistant",
        content: null,
        tool_calls: [{ id: callId, type: "function", function: { name: "get_weather", arguments: args } }],
      },
      { role: "tool", tool_call_id: callId, content: "sunny" },
    ],
  };
}

/** Drains a stream: the text, the tool calls assembled from deltas, the finish reason and the usage. */
export async function drain(stream: AsyncGenerator<ChatChunk>) {
  let text = "";
  let finish: string | null = null;
  let usage: ChatChunk["usage"];
  let role: string | undefined;
  const calls = new Map<number, { id: string; name: string; arguments: string }>();
  const chunks: ChatChunk[] = [];
  for await (const chunk of stream) {
    chunks.push(chunk);
    if (chunk.usage) usage = chunk.usage;
    for (const choice of chunk.choices) {
      role ??= choice.delta.role;
      text += choice.delta.content ?? "";
      for (const delta of choice.delta.tool_calls ?? []) {
        const call = calls.get(delta.index) ?? { id: "", name: "", arguments: "" };
        call.id ||= delta.id ?? "";
        call.name ||= delta.function.name ?? "";
        call.arguments += delta.function.arguments;
        calls.set(delta.index, call);
      }
      finish = choice.finish_reason ?? finish;
    }
  }
  return { text, finish, usage, role, calls: [...calls.values()], chunks };
}
