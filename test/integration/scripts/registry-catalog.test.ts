import { spawnSync } from "node:child_process";
import { eq } from "drizzle-orm";
import { afterAll, describe, expect, it } from "vitest";
import { createDatabase } from "../../../workers/db/client.ts";
import { catalogModels, modelEndpoints, modelVersions, registryTiers } from "../../../workers/db/schema.ts";
import { localPoolEnv } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";

const name = `cli-model-${Date.now()}`;
const env = localPoolEnv();
const database = createDatabase({ databaseUrl: env.DATABASE_URL, wsProxy: env.NEON_WS_PROXY });

afterAll(async () => {
  await database.db.delete(catalogModels).where(eq(catalogModels.name, name));
  await database.db.delete(modelVersions).where(eq(modelVersions.tier, name));
  await database.db.delete(registryTiers).where(eq(registryTiers.name, name));
  await database.close();
});

/** `npm run registry -- args` with only PATH, HOME and where the stack is. */
function registry(args: string[]) {
  const result = spawnSync("npm", ["run", "--silent", "registry", "--", ...args], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? "/usr/bin:/bin",
      HOME: process.env.HOME ?? "/",
      ...(process.env.TIERGATE_STACK_DIR ? { TIERGATE_STACK_DIR: process.env.TIERGATE_STACK_DIR } : {}),
    },
    encoding: "utf8",
    timeout: 120_000,
  });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe("npm run registry: the model catalog", () => {
  it("names a model, gives it an Anthropic endpoint version, promotes it and lists it", async () => {
    const added = registry([
      "model",
      name,
      "--context",
      "200000",
      "--capabilities",
      "tools,vision",
      "--aliases",
      `${name}-latest`,
    ]);
    expect(added.status, added.out).toBe(0);
    const version = registry([
      "add",
      name,
      "v1",
      "https://api.anthropic.com",
      "claude-x",
      "--provider",
      "anthropic",
      "--api-version",
      "2023-06-01",
      "--key-name",
      "anthropic",
    ]);
    expect(version.status, version.out).toBe(0);
    const promoted = registry(["promote", name, "v1", "--reason", "catalog cli test"]);
    expect(promoted.status, promoted.out).toBe(0);
    const listed = registry(["models"]);
    expect(listed.out).toContain(
      `${name} aliases=[${name}-latest] auto=- ctx=200000 caps=[tools,vision] v1 https://api.anthropic.com claude-x`,
    );
    const [endpoint] = await database.db
      .select()
      .from(modelEndpoints)
      .where(eq(modelEndpoints.versionId, `${name}:v1`));
    expect(endpoint).toMatchObject({
      provider: "anthropic",
      options: { apiVersion: "2023-06-01" },
      completions: false,
    });
  });

  it("refuses an unknown capability, a taken name and a bad provider with a clear message", () => {
    const capability = registry(["model", `${name}-2`, "--context", "10", "--capabilities", "telepathy"]);
    expect(capability.status).not.toBe(0);
    expect(capability.out).toContain("capabilities");
    const taken = registry(["model", "medium", "--context", "10"]);
    expect(taken.status).not.toBe(0);
    expect(taken.out).toContain("already in use");
    const provider = registry(["add", name, "v2", "http://x", "m", "--provider", "carrier-pigeon"]);
    expect(provider.status).not.toBe(0);
    expect(provider.out).toContain("provider");
  });
});
