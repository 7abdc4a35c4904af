import { describe, expect, it } from "vitest";
import type { CatalogModelRow } from "../../../../workers/db/schema.ts";
import { withCatalog } from "../../../../workers/registry/catalog-store.ts";
import { defaultTiers, type TierRoute } from "../../../../workers/registry/types.ts";
import { capableChain, neededCapabilities } from "../../../../workers/router/catalog.ts";
import { hello, nativeEndpoint, withTools } from "./helpers.ts";

const route = (name: string, provider: "openai-compatible" | "gemini"): TierRoute => {
  const shape = defaultTiers.find((t) => t.name === name) ?? {
    name,
    rank: 0,
    kind: "chat" as const,
    tasks: [],
  };
  const endpoint = nativeEndpoint({
    provider,
    baseURL: "http://x",
    apiKey: "k",
    model: `${name}-m`,
    id: `${name}#0`,
  });
  return {
    ...shape,
    budgetMs: 100,
    timeoutMs: 1_000,
    versionId: `${name}:1`,
    version: "1",
    endpoints: [endpoint],
  };
};

const row = (name: string, autoTier: string | null, capabilities: string[]): CatalogModelRow => ({
  name,
  aliases: [`${name}-alias`],
  autoTier,
  contextWindow: 1_000,
  capabilities,
  createdAt: new Date(0),
});

describe("the catalog in the routing table", () => {
  it("splits catalog models from tiers, stamps their endpoints and lets them serve their auto tier", () => {
    const { tiers, models } = withCatalog(
      [route("medium", "openai-compatible"), route("flash", "gemini")],
      [row("flash", "medium", ["vision", "made-up"])],
    );
    expect(tiers.map((t) => t.name)).toEqual(["medium"]);
    expect(models[0]).toMatchObject({
      name: "flash",
      aliases: ["flash-alias"],
      autoTier: "medium",
      capabilities: ["vision"],
    });
    expect(tiers[0]?.endpoints.map((e) => e.id)).toEqual(["medium#0", "flash#0"]);
    expect(tiers[0]?.endpoints[1]).toMatchObject({ capabilities: ["vision"], contextWindow: 1_000 });
  });

  it("a tools request in that tier skips the catalog endpoint without tools; a plain one keeps both", () => {
    const { tiers } = withCatalog(
      [route("medium", "openai-compatible"), route("flash", "gemini")],
      [row("flash", "medium", [])],
    );
    expect(neededCapabilities(withTools)).toEqual(["tools"]);
    expect(capableChain(tiers, withTools)[0]?.endpoints.map((e) => e.id)).toEqual(["medium#0"]);
    expect(capableChain(tiers, hello)[0]?.endpoints.map((e) => e.id)).toEqual(["medium#0", "flash#0"]);
    const images = {
      ...hello,
      messages: [
        {
          role: "user" as const,
          content: [{ type: "image_url" as const, image_url: { url: "data:image/png;base64,AA" } }],
        },
      ],
    };
    expect(neededCapabilities(images)).toEqual(["vision"]);
    expect(neededCapabilities({ ...withTools, tool_choice: "none" })).toEqual([]);
  });
});
