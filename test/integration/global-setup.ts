import { allServices } from "../stack/registry.ts";

/** Every integration run starts from a healthy stack; `npm test` has already brought it up. */
export async function setup(): Promise<void> {
  for (const service of allServices) {
    await service.install();
    await service.start();
  }
}
