import { describe, expect, it } from "vitest";
import { GatewayError } from "../../../shared/errors.ts";
import type { RoutingTable, TierRoute } from "../../../workers/registry/types.ts";
import { allowedView } from "../../../workers/router/allowed.ts";
import { resolveEmbeddingsTier, resolveNamedModel } from "../../../workers/router/resolve.ts";

function tier(name: string, kind: TierRoute["kind"] = "chat"): TierRoute {
  return {
    name,
    rank: 1,
    kind,
    tasks: kind === "chat" ? ["chat"] : [],
    budgetMs: 200,
    timeoutMs: 5_000,
    versionId: `v-${name}`,
    version: `m-${name}@1`,
    endpoints: [
      {
        id: `${name}-0`,
        provider: "openai-compatible",
        baseURL: "http://127.0.0.1:1/v1",
        apiKey: "k",
        model: `served-${name}`,
        weight: 1,
        metricsURL: "",
        completions: false,
      },
    ],
  };
}

const full: RoutingTable = {
  source: "env",
  tiers: [tier("small"), tier("large"), tier("embed", "embeddings")],
};
const onlySmall = allowedView(full, ["small"]);

function codeOf(run: () => unknown): string | undefined {
  try {
    run();
  } catch (error: unknown) {
    return error instanceof GatewayError ? error.code : "other";
  }
  return undefined;
}

describe("resolveNamedModel", () => {
  it("finds a tier by name and by the model it serves", () => {
    expect(resolveNamedModel({ model: "large", table: full, full }).decision).toMatchObject({
      mode: "tier",
      tier: "large",
      reasons: ["explicit tier"],
    });
    expect(resolveNamedModel({ model: "served-small", table: full, full }).decision).toMatchObject({
      mode: "model",
      tier: "small",
      reasons: ["explicit model"],
    });
  });

  it("refuses a model outside the key's view and names an unknown one not found", () => {
    expect(codeOf(() => resolveNamedModel({ model: "large", table: onlySmall, full }))).toBe(
      "MODEL_FORBIDDEN",
    );
    expect(codeOf(() => resolveNamedModel({ model: "served-large", table: onlySmall, full }))).toBe(
      "MODEL_FORBIDDEN",
    );
    expect(codeOf(() => resolveNamedModel({ model: "nope", table: full, full }))).toBe("MODEL_NOT_FOUND");
  });

  it("never routes a chat request to the embeddings tier", () => {
    expect(codeOf(() => resolveNamedModel({ model: "embed", table: full, full }))).toBe("MODEL_NOT_FOUND");
  });
});

describe("resolveEmbeddingsTier", () => {
  it("finds the tier by name, version, served model and auto", () => {
    for (const model of ["embed", "m-embed@1", "served-embed", "auto"])
      expect(resolveEmbeddingsTier({ model, table: full, full }).name).toBe("embed");
  });

  it("is forbidden outside the view and not found when unknown", () => {
    expect(codeOf(() => resolveEmbeddingsTier({ model: "embed", table: onlySmall, full }))).toBe(
      "MODEL_FORBIDDEN",
    );
    expect(codeOf(() => resolveEmbeddingsTier({ model: "small", table: full, full }))).toBe(
      "MODEL_NOT_FOUND",
    );
  });
});
