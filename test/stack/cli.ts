import { findService } from "./registry.ts";
import { down, reset, status, up } from "./stack.ts";

const usage = "usage: npm run stack -- up|down|status|reset [service ...]";

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
