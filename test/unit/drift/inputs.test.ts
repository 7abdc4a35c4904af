import { describe, expect, it } from "vitest";
import { requestEventSchema } from "../../../shared/events.ts";
import { feedbackRequestSchema } from "../../../shared/schemas/feedback.ts";
import { routedEvent } from "../../../workers/router/events.ts";

const outcome = {
  requestId: "req-1",
  tenant: "t",
  userId: "u",
  route: "chat",
  arrivedAt: Date.now(),
  status: 200,
};

describe("drift inputs on the request event", () => {
  it("an auto-routed request carries the classifier's task and confidence, and sizes when known", () => {
    const event = routedEvent({
      ...outcome,
      decision: {
        mode: "auto",
        requested: "auto",
        tier: "small",
        task: "classify",
        classification: { task: "classify", difficulty: "easy", confidence: 0.83, decidedBy: "heuristic" },
        escalated: false,
        reasons: [],
      },
      promptChars: 120,
      answerChars: 45,
    });
    expect(event).toMatchObject({ task: "classify", confidence: 0.83, prompt_chars: 120, answer_chars: 45 });
    expect(requestEventSchema.parse(event)).toMatchObject({ task: "classify", confidence: 0.83 });
  });

  it("a request without a classification has no drift fields (ClickHouse fills the column defaults)", () => {
    const event = routedEvent(outcome);
    expect(event).not.toHaveProperty("task");
    expect(event).not.toHaveProperty("confidence");
    expect(event).not.toHaveProperty("prompt_chars");
    expect(requestEventSchema.safeParse(event).success).toBe(true);
  });
});

describe("feedback request schema", () => {
  it("takes a rating, a label or both", () => {
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1", rating: -1 }).success).toBe(true);
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1", label: "wrong" }).success).toBe(true);
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1", rating: 0.5, label: "good" }).success).toBe(
      true,
    );
  });

  it("refuses neither, out-of-range ratings and unknown fields", () => {
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1" }).success).toBe(false);
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1", rating: 1.5 }).success).toBe(false);
    expect(feedbackRequestSchema.safeParse({ request_id: "req_1", rating: 1, score: 3 }).success).toBe(false);
  });
});
