import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestApiKey } from "../../stack/dev-key.ts";
import { poolService } from "../../stack/gateway.ts";
import { repoRoot } from "../../stack/paths.ts";
import { host, ports } from "../../stack/ports.ts";
import { waitFor } from "../../stack/process.ts";

/** The port the stack's settings give the Deno edge (beside the workerd edge). */
const url = `http://${host}:${ports.edge + 1}`;
let child: ChildProcess | undefined;
let output = "";
let apiKey = "";

beforeAll(async () => {
  await poolService.start();
  apiKey = (await createTestApiKey(`deno-npm-${Date.now()}`)).key;
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? "/usr/bin:/bin",
    HOME: process.env.HOME ?? "/",
  };
  if (process.env.TIERGATE_STACK_DIR) env.TIERGATE_STACK_DIR = process.env.TIERGATE_STACK_DIR;
  // `npm run dev:edge:deno` with no tiergate variables: it reads the stack's settings.
  child = spawn("npm", ["run", "dev:edge:deno"], { cwd: repoRoot, env, detached: true });
  child.stdout?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    output += d.toString();
  });
  await waitFor(
    "npm run dev:edge:deno",
    async () => (await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
    60_000,
  ).catch((error: unknown) => {
    throw new Error(`${error instanceof Error ? error.message : String(error)}\n${output}`);
  });
});

afterAll(async () => {
  if (child?.pid !== undefined) {
    process.kill(-child.pid, "SIGTERM");
    await new Promise((r) => child?.once("exit", r));
  }
});

describe("npm run dev:edge:deno on the local stack, without environment", () => {
  it("answers a chat completion through the pool", async () => {
    const response = await fetch(`${url}/v1/chat/completions`, {
      method: "POST",
      headers: { authorization: `Bearer ${apiKey}`, "content-type": "application/json" },
      body: JSON.stringify({
        model: "auto",
        temperature: 0,
        max_tokens: 8,
        messages: [{ role: "user", content: `deno without env ${crypto.randomUUID()}` }],
      }),
    });
    expect(response.status, output).toBe(200);
    expect(((await response.json()) as { object: string }).object).toBe("chat.completion");
    // The edge logs one JSON line when it listens.
    expect(output).toContain(`"msg":"edge listening"`);
    expect(output).toContain(`"url":"${url}"`);
  });
});
