import { cloudflareTest } from "@cloudflare/vitest-pool-workers";
import { defineConfig } from "vitest/config";

declare module "vitest" {
  export interface ProvidedContext {
    /** An API key of tenant `edge-tests`, created by the edge project's global setup. */
    edgeApiKey: string;
  }
}

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          sequence: { groupOrder: 0 },
        },
      },
      {
        // The edge app itself runs inside workerd (Miniflare), talking to the real local stack and pool.
        plugins: [
          cloudflareTest(({ inject }) => ({
            wrangler: { configPath: "./wrangler.toml" },
            miniflare: {
              bindings: {
                TEST_API_KEY: inject("edgeApiKey"),
                TEST_OTHER_TENANT_KEY: inject("edgeOtherTenantKey"),
                TEST_LIMITED_KEY: inject("edgeLimitedKey"),
              },
            },
          })),
        ],
        test: {
          name: "workerd",
          include: ["test/workerd/**/*.test.ts"],
          // Before the integration files, which stop and restart the services these tests use.
          sequence: { groupOrder: 0 },
          globalSetup: ["test/workerd/global-setup.ts"],
          testTimeout: 30_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "integration",
          include: ["test/integration/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/integration/global-setup.ts"],
          // Some tests stop and restart services; files must not overlap, nor run beside other projects.
          fileParallelism: false,
          sequence: { groupOrder: 1 },
          testTimeout: 60_000,
          hookTimeout: 120_000,
        },
      },
    ],
  },
});
