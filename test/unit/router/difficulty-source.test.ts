import { describe, expect, it } from "vitest";
import type { Database } from "../../../workers/db/client.ts";
import { bundledRouterModel } from "../../../workers/router/difficulty/source.ts";
import { RegistryDifficultySource } from "../../../workers/router/learning/source.ts";

describe("the registry's difficulty source", () => {
  it("keeps routing with the bundled model and no shifts while Postgres fails", async () => {
    const down = {
      select() {
        throw new Error("connect ECONNREFUSED 127.0.0.1:5432");
      },
    } as unknown as Database;
    const errors: unknown[] = [];
    const source = new RegistryDifficultySource(down, { intervalMs: 60_000, onError: (e) => errors.push(e) });
    await source.refresh();
    expect(errors).toHaveLength(1);
    expect(source.model()).toBe(bundledRouterModel());
    expect(source.shift("any-tenant", "code")).toBe(0);
  });
});
