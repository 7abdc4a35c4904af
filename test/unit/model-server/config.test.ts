import { describe, expect, it } from "vitest";
import { defaultModels, loadModelServerConfig } from "../../stack/model-server/config.ts";

describe("loadModelServerConfig", () => {
  it("defaults to three chat tiers and one embedding model with capped generation", () => {
    const config = loadModelServerConfig({});
    expect(config.models).toEqual(defaultModels);
    expect(config.models.map((m) => m.name)).toEqual([
      "tiergate-small",
      "tiergate-medium",
      "tiergate-large",
      "tiergate-embed",
    ]);
    expect(config.defaultMaxTokens).toBe(64);
    expect(config.maxTokensCap).toBe(512);
    expect(config.threads).toBe(1);
  });

  it("reads models and limits from JSON, and threads from their own variable", () => {
    const config = loadModelServerConfig({
      TIERGATE_MODEL_SERVER_CONFIG: JSON.stringify({
        models: [
          { name: "a", kind: "chat", weights: "smollm2-135m-instruct-q4_1", defaultMaxTokens: 8 },
          { name: "e", kind: "embedding", weights: "all-minilm-l6-v2" },
        ],
        maxTokensCap: 128,
      }),
      TIERGATE_MODEL_THREADS: "2",
    });
    expect(config.models.map((m) => m.name)).toEqual(["a", "e"]);
    expect(config.models[0]?.defaultMaxTokens).toBe(8);
    expect(config.maxTokensCap).toBe(128);
    expect(config.threads).toBe(2);
  });

  it("rejects broken JSON, duplicate names and a kind paired with the wrong weights", () => {
    expect(() => loadModelServerConfig({ TIERGATE_MODEL_SERVER_CONFIG: "{" })).toThrow("not valid JSON");
    expect(() => loadModelServerConfig({ TIERGATE_MODEL_SERVER_CONFIG: "[]" })).toThrow("JSON object");
    const twice = { name: "x", kind: "chat", weights: "smollm2-135m-instruct-q4_1" };
    expect(() =>
      loadModelServerConfig({ TIERGATE_MODEL_SERVER_CONFIG: JSON.stringify({ models: [twice, twice] }) }),
    ).toThrow("configured twice");
    const mismatched = { name: "x", kind: "embedding", weights: "smollm2-135m-instruct-q4_1" };
    expect(() =>
      loadModelServerConfig({ TIERGATE_MODEL_SERVER_CONFIG: JSON.stringify({ models: [mismatched] }) }),
    ).toThrow("needs all-minilm-l6-v2");
  });
});
