import { existsSync, readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { denoEdgeService, edgeService, poolService } from "./gateway.ts";
import { writeLocalEnvFile } from "./local-env.ts";
import { migrateAll } from "./migrate.ts";
import { ensureStackDirs, stackDir } from "./paths.ts";
import { allServices, onDemandServices, serviceGroups } from "./registry.ts";
import type { StackService } from "./service.ts";

/** Installs, starts and health-checks the stack (or the selected services); migrates when starting all. */
export async function up(selected: StackService[] | undefined): Promise<void> {
  ensureStackDirs();
  writeLocalEnvFile();
  for (const group of serviceGroups) {
    const members = selected
      ? group.filter((s) => selected.includes(s))
      : group.filter((s) => !onDemandServices.has(s));
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

/** The gateway's own processes (started by `npm start` and tests), stopped before the stack. */
const appServices = [edgeService, denoEdgeService, poolService];

/** Downloads that survive `reset`: model weights, the Kafka jars, the Python SDK, Go builds (the collector). */
const keptOnReset = new Set(["models", "kafka", "python-sdk", "go", "bin"]);

export async function down(selected: StackService[] | undefined): Promise<void> {
  if (!selected) await Promise.all(appServices.map((s) => s.stop()));
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
    const optional = !selected && onDemandServices.has(service);
    allUp &&= ok || optional;
    console.log(`  ${ok ? "up  " : optional ? "off " : "DOWN"} ${service.name.padEnd(16)} ${service.url}`);
  }
  if (!selected) {
    for (const service of appServices) {
      const ok = await service.healthy().catch(() => false);
      console.log(`  ${ok ? "up  " : "off "} ${service.name.padEnd(16)} ${service.url}`);
    }
  }
  return allUp;
}

export async function reset(selected: StackService[] | undefined): Promise<void> {
  await down(selected);
  for (const service of selected ?? allServices) await service.reset();
  if (!selected && existsSync(stackDir)) {
    for (const entry of readdirSync(stackDir)) {
      if (!keptOnReset.has(entry)) rmSync(join(stackDir, entry), { recursive: true, force: true });
    }
  }
  console.log("  reset: data removed; run `npm run stack -- up` to start fresh");
}
