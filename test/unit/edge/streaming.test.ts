import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createEdgeApp } from "../../../edge/app.ts";
import { chatInit, FakePool, unitEnv } from "./fake-pool.ts";

const app = createEdgeApp();
const pool = new FakePool();
let url = "";

beforeAll(async () => {
  url = await pool.start();
});
afterAll(async () => {
  await pool.stop();
});

const streamBody = { model: "auto", stream: true, messages: [{ role: "user", content: "stream please" }] };

function dataEvents(text: string): string[] {
  return text
    .split("\n\n")
    .filter((e) => e.startsWith("data: "))
    .map((e) => e.slice(6));
}

describe("streaming through the edge (in-process, fake pool)", () => {
  it("relays the pool's SSE chunks and ends with [DONE]", async () => {
    pool.mode = { kind: "stream", tokens: ["Hel", "lo", "!"] };
    const response = await app.request("/v1/chat/completions", chatInit(streamBody), unitEnv(`a=${url}`));
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = dataEvents(await response.text());
    expect(events.at(-1)).toBe("[DONE]");
    const text = events
      .slice(0, -1)
      .map(
        (e) =>
          (JSON.parse(e) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content ?? "",
      )
      .join("");
    expect(text).toBe("Hello!");
  });

  it("passes chunks on as they come (the first arrives before the pool finished)", async () => {
    pool.mode = { kind: "stream", tokens: ["a", "b", "c", "d"], gapMs: 300 };
    const response = await app.request("/v1/chat/completions", chatInit(streamBody), unitEnv(`a=${url}`));
    const reader = response.body?.getReader();
    if (!reader) throw new Error("no body");
    const first = await reader.read();
    expect(new TextDecoder().decode(first.value)).toContain("chat.completion.chunk");
    // The pool is still sending: the stream has not ended with the first read.
    expect(first.done).toBe(false);
    await reader.cancel();
  });

  it("falls back cleanly, as a complete SSE stream, when the pool fails before the first token", async () => {
    pool.mode = { kind: "stream", tokens: ["never"], cutAfter: 0 };
    const response = await app.request("/v1/chat/completions", chatInit(streamBody), unitEnv(`a=${url}`));
    expect(response.status).toBe(503);
    expect(response.headers.get("x-fallback")).toBe("upstream_error");
    expect(response.headers.get("content-type")).toContain("text/event-stream");
    const events = dataEvents(await response.text());
    expect(events.at(-1)).toBe("[DONE]");
    expect(events[0]).toContain("temporarily unable");
  });

  it("ends the stream with an error event, never [DONE], when the pool fails after the first token", async () => {
    pool.mode = { kind: "stream", tokens: ["one", "two", "three"], cutAfter: 2 };
    const response = await app.request("/v1/chat/completions", chatInit(streamBody), unitEnv(`a=${url}`));
    expect(response.status).toBe(200);
    const events = dataEvents(await response.text());
    expect(events).not.toContain("[DONE]");
    const last = JSON.parse(events.at(-1) ?? "{}") as { error?: { type: string; request_id: string } };
    expect(last.error?.type).toBe("server_error");
    expect(last.error?.request_id).toBe(response.headers.get("x-request-id"));
  });

  it("treats a stream that stops without [DONE] as failed", async () => {
    pool.mode = { kind: "stream", tokens: ["x"], noDone: true };
    const response = await app.request("/v1/chat/completions", chatInit(streamBody), unitEnv(`a=${url}`));
    const events = dataEvents(await response.text());
    expect(events.at(-1)).toContain('"error"');
  });

  it("ends a stream that outlives the deadline with a deadline_exceeded error event", async () => {
    pool.mode = { kind: "stream", tokens: ["a", "b", "c", "d", "e", "f"], gapMs: 150 };
    const env = unitEnv(`a=${url}`, { POOL_TIMEOUT_MS: "400" });
    const response = await app.request("/v1/chat/completions", chatInit(streamBody), env);
    const events = dataEvents(await response.text());
    expect(events.at(-1)).toContain("deadline_exceeded");
  });
});

describe("coalescing identical concurrent misses", () => {
  it("sends one upstream call for identical concurrent deterministic requests", async () => {
    pool.mode = { kind: "json", delayMs: 300, content: "shared" };
    pool.chatCalls = 0;
    const env = unitEnv(`a=${url}`);
    const body = { model: "auto", temperature: 0, messages: [{ role: "user", content: "same question" }] };
    // Warm the key lookup, so every request below reaches the cache step together.
    await app.request("/v1/chat/completions", chatInit({ ...body, temperature: 1 }), env);
    pool.chatCalls = 0;
    const responses = await Promise.all(
      Array.from({ length: 5 }, () => app.request("/v1/chat/completions", chatInit(body), env)),
    );
    expect(pool.chatCalls).toBe(1);
    const contents = await Promise.all(
      responses.map(
        async (r) =>
          ((await r.json()) as { choices: { message: { content: string } }[] }).choices[0]?.message.content,
      ),
    );
    expect(contents).toEqual(Array(5).fill("shared"));
    expect(responses.filter((r) => r.headers.get("x-tiergate-coalesced") === "true")).toHaveLength(4);
  });

  it("does not coalesce non-deterministic requests", async () => {
    pool.mode = { kind: "json", delayMs: 100 };
    const env = unitEnv(`a=${url}`);
    const body = { model: "auto", temperature: 0.7, messages: [{ role: "user", content: "creative" }] };
    await app.request("/v1/chat/completions", chatInit(body), env);
    pool.chatCalls = 0;
    await Promise.all(
      Array.from({ length: 3 }, () => app.request("/v1/chat/completions", chatInit(body), env)),
    );
    expect(pool.chatCalls).toBe(3);
  });
});
