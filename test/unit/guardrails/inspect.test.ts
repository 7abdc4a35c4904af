import { describe, expect, it } from "vitest";
import { inspectMessages } from "../../../shared/guardrails/inspect.ts";
import { Placeholders } from "../../../shared/guardrails/redact.ts";
import type { ChatMessage } from "../../../shared/schemas/chat.ts";

const calls: ChatMessage[] = [
  { role: "user", content: "look up the customer" },
  {
    role: "assistant",
    content: null,
    tool_calls: [
      {
        id: "call_1",
        type: "function",
        function: { name: "lookup", arguments: '{"email":"ann@example.com"}' },
      },
      {
        id: "call_2",
        type: "custom",
        custom: { name: "run_sql", input: "select * from users where email = 'ann@example.com'" },
      },
    ],
  },
];

describe("inspectMessages over function and custom tool calls", () => {
  it("redacts a custom call's input like a function call's arguments, with one placeholder", () => {
    const result = inspectMessages(calls, { pii: { email: "redact" } }, new Placeholders());
    const assistant = result.messages[1];
    if (assistant?.role !== "assistant") throw new Error("assistant message missing");
    const [fn, custom] = assistant.tool_calls ?? [];
    expect(fn).toEqual({
      id: "call_1",
      type: "function",
      function: { name: "lookup", arguments: '{"email":"[EMAIL_1]"}' },
    });
    expect(custom).toEqual({
      id: "call_2",
      type: "custom",
      custom: { name: "run_sql", input: "select * from users where email = '[EMAIL_1]'" },
    });
    expect(result.counts).toEqual({ "email:redact": 2 });
    expect(result.blocked).toBeNull();
    // The caller's messages are left as they were.
    expect(JSON.stringify(calls)).toContain("ann@example.com");
  });

  it("blocks on a finding that appears only in a custom call's input", () => {
    const onlyCustom: ChatMessage[] = [
      {
        role: "assistant",
        content: "running it",
        tool_calls: [{ id: "c", type: "custom", custom: { name: "mail", input: "to bob@example.org" } }],
      },
    ];
    const result = inspectMessages(onlyCustom, { pii: { email: "block" } }, new Placeholders());
    expect(result.blocked).toBe("email");
  });
});
