import { rmSync } from "node:fs";
import { migrateAll } from "./migrate.ts";
import { ensureStackDirs, stackDir } from "./paths.ts";
import { allServices, findService, serviceGroups } from "./registry.ts";
import type { StackService } from "./service.ts";

const usage = "usage: npm run stack -- up|down|status|reset [service ...]";

async function up(selected: StackService[] | undefined): Promise<void> {
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

async function down(selected: StackService[] | undefined): Promise<void> {
  const order = [...serviceGroups].reverse();
  for (const group of order) {
    const members = selected ? group.filter((s) => selected.includes(s)) : group;
    await Promise.all(members.map((s) => s.stop()));
  }
  for (const s of selected ?? allServices) console.log(`  down ${s.name}`);
}

async function status(selected: StackService[] | undefined): Promise<boolean> {
  let allUp = true;
  for (const service of selected ?? allServices) {
    const ok = await service.healthy().catch(() => false);
    allUp &&= ok;
    console.log(`  ${ok ? "up  " : "DOWN"} ${service.name.padEnd(16)} ${service.url}`);
  }
  return allUp;
}

async function reset(selected: StackService[] | undefined): Promise<void> {
  await down(selected);
  for (const service of selected ?? allServices) await service.reset();
  if (!selected) rmSync(stackDir, { recursive: true, force: true });
  console.log("  reset: data removed; run `npm run stack -- up` to start fresh");
}

async function main(): Promise<number> {
  const [command, ...names] = process.argv.slice(2);
  const selected = names.length > 0 ? names.map(findService) : undefined;
  switch (command) {
    case "up":
      await up(selected);
      return 0;
    case "down":
      await down(selected);
      return 0;
    case "status":
      return (await status(selected)) ? 0 : 1;
    case "reset":
      await reset(selected);
      return 0;
    default:
      console.error(usage);
      return 2;
  }
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`stack: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  },
);
