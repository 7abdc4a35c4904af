import { writeLocalEnvFile } from "../stack/local-env.ts";
import { ensureStackDirs } from "../stack/paths.ts";
import { allServices } from "../stack/registry.ts";

/** Every integration run starts from a healthy stack; `npm test` has already brought it up. */
export async function setup(): Promise<void> {
  ensureStackDirs();
  // The settings scripts and the Deno edge read (as `npm run stack -- up` writes them).
  writeLocalEnvFile();
  for (const service of allServices) {
    await service.install();
    await service.start();
  }
}
