import type { TestProject } from "vitest/node";
import { createTestApiKey } from "../stack/dev-key.ts";
import { poolService } from "../stack/gateway.ts";
import { allServices } from "../stack/registry.ts";

/** The edge runs in workerd; behind it the real stack and the Bun pool must be up. */
export async function setup(project: TestProject): Promise<void> {
  for (const service of allServices) {
    await service.install();
    await service.start();
  }
  await poolService.start();
  const { key } = await createTestApiKey(`edge-tests-${Date.now()}`);
  project.provide("edgeApiKey", key);
}
