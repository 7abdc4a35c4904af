import { env, exports } from "cloudflare:workers";
// Extends zod with .openapi() before the shared schemas below are built (the edge app needs it).
import "@hono/zod-openapi";
import { describe, expect, it } from "vitest";
import { checkContract } from "../../shared/guardrails/contract.ts";
import { detectPii } from "../../shared/guardrails/detectors.ts";

describe("guardrails in workerd", () => {
  it("runs the detectors and compiles a contract's JSON Schema without eval", () => {
    const text = "mail a@b.io, card 4111 1111 1111 1111, order 4111 1111 1111 1112, on 2024-03-15";
    expect(detectPii(text).map((m) => m.kind)).toEqual(["email", "card"]);
    const contract = {
      metadataSchema: {
        type: "object",
        required: ["record_type"],
        properties: {
          record_type: { enum: ["lab", "note", "imaging"] },
          day: { type: "string", format: "date" },
        },
      },
    };
    const messages = [{ role: "user" as const, content: "hi" }];
    expect(
      checkContract(contract, { messages, metadata: { record_type: "lab", day: "2024-03-15" } }),
    ).toBeNull();
    expect(checkContract(contract, { messages, metadata: { record_type: "scan" } })?.param).toBe(
      "metadata.record_type",
    );
    expect(checkContract(contract, { messages, metadata: { record_type: "lab", day: "soon" } })?.param).toBe(
      "metadata.day",
    );
  });

  it("blocks at the edge with 400 content_blocked when a request tightens its guardrails", async () => {
    const response = await exports.default.fetch("http://edge.test/v1/chat/completions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.TEST_API_KEY}`,
        "content-type": "application/json",
        "x-tiergate-guardrails": "secret=block",
      },
      body: JSON.stringify({
        model: "small",
        messages: [{ role: "user", content: `my key is AKIA${"ABCDEFGHIJKLMNOP"}` }],
      }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { code: string; param: string; request_id: string } };
    expect(body.error).toMatchObject({ code: "content_blocked", param: "guardrails.pii.secret" });
    expect(body.error.request_id).toBe(response.headers.get("x-request-id"));
  });

  it("forwards a redacted request to the real pool, the decisions header signed with it", async () => {
    const response = await exports.default.fetch("http://edge.test/v1/chat/completions", {
      method: "POST",
      headers: {
        authorization: `Bearer ${env.TEST_API_KEY}`,
        "content-type": "application/json",
        "x-tiergate-guardrails": "email=redact,output=on",
        "x-tiergate-cache": "bypass",
      },
      body: JSON.stringify({
        model: "auto",
        max_tokens: 8,
        messages: [{ role: "user", content: `Say hi to ann-${crypto.randomUUID()}@example.com` }],
      }),
    });
    // The pool verified the signature over the new header and answered (not a 401 from the pool).
    expect(response.status).toBe(200);
    expect(response.headers.get("x-fallback")).toBeNull();
    const body = (await response.json()) as { choices: { message: { content: string } }[] };
    expect(typeof body.choices[0]?.message.content).toBe("string");
  });
});
