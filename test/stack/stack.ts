import { rmSync } from "node:fs";
import { migrateAll } from "./migrate.ts";
import { ensureStackDirs, stackDir } from "./paths.ts";
import { allServices, serviceGroups } from "./registry.ts";
import type { StackService } from "./service.ts";

/** Installs, starts and health-checks the stack (or the selected services); migrates when starting all. */
export async function up(selected: StackService[] | undefined): Promise<void> {
  ensureStackDirs();
  for (const group of serviceGroups) {
    const members = selected ? group.filter((s) => selected.includes(s)) : group;
    await Promise.all(
      members.map(async (service) => {
        const started = Date.now();
        await service.install();
        await service.start();
        console.log(`  up   ${service.name.padEnd(16)} ${service.url}  (${Date.now() - started} ms)`);
      }),
    );
  }
  if (!selected) {
    await migrateAll();
    console.log("  migrations applied (postgres, clickhouse, kafka topics)");
  }
}

export async function down(selected: StackService[] | undefined): Promise<void> {
  const order = [...serviceGroups].reverse();
  for (const group of order) {
    const members = selected ? group.filter((s) => selected.includes(s)) : group;
    await Promise.all(members.map((s) => s.stop()));
  }
  for (const s of selected ?? allServices) console.log(`  down ${s.name}`);
}

export async function status(selected: StackService[] | undefined): Promise<boolean> {
  let allUp = true;
  for (const service of selected ?? allServices) {
    const ok = await service.healthy().catch(() => false);
    allUp &&= ok;
    console.log(`  ${ok ? "up  " : "DOWN"} ${service.name.padEnd(16)} ${service.url}`);
  }
  return allUp;
}

export async function reset(selected: StackService[] | undefined): Promise<void> {
  await down(selected);
  for (const service of selected ?? allServices) await service.reset();
  if (!selected) rmSync(stackDir, { recursive: true, force: true });
  console.log("  reset: data removed; run `npm run stack -- up` to start fresh");
}
