import { relative } from "node:path";
import { ensureDevApiKey } from "./dev-key.ts";
import { edgeService, poolService } from "./gateway.ts";
import { localEnvFile } from "./local-env.ts";
import { repoRoot } from "./paths.ts";
import { host, ports } from "./ports.ts";
import { up } from "./stack.ts";

/** `npm start`: the local stack, migrations, a dev key, the Bun pool and the edge in workerd. */
async function main(): Promise<void> {
  console.log("tiergate: starting the local stack…");
  await up(undefined);
  const key = await ensureDevApiKey();
  await poolService.start();
  console.log(`  up   pool             ${poolService.url}`);
  await edgeService.start();
  console.log(`  up   edge (workerd serve, supervised)   ${edgeService.url}`);
  console.log(`
tiergate is running at ${edgeService.url}
Your development API key is in .stack/dev-api-key.

  curl -s ${edgeService.url}/v1/chat/completions \\
    -H "Authorization: Bearer ${key}" \\
    -H "Content-Type: application/json" \\
    -d '{"model":"auto","temperature":0,"messages":[{"role":"user","content":"Say hello"}]}'

Send it twice: the second answer carries 'x-cache: HIT' (add -i to see headers).
The key belongs to tenant 'dev', the scripts' default tenant. Scripts need no environment here: they
read the stack's settings from ${relative(repoRoot, localEnvFile)} (a variable you set wins), e.g.
  npm run backfill:docs -- ./docs --collection docs
  npm run keys -- list
Metrics and the dashboard are on the pool: ${poolService.url}/metrics, ${poolService.url}/dashboard.
Edge restarts and cron runs: http://${host}:${ports.edgeSupervisor}/metrics (loopback).
Logs: .stack/logs/.  Ctrl-C stops the gateway; 'npm run stack -- down' stops the stack.`);

  const stop = async () => {
    console.log("\nstopping edge and pool…");
    await edgeService.stop();
    await poolService.stop();
    process.exit(0);
  };
  process.on("SIGINT", () => void stop());
  process.on("SIGTERM", () => void stop());
  if (process.env.TIERGATE_START_DETACHED === "1") process.exit(0);
  setInterval(() => {}, 1 << 30);
}

main().catch((error: unknown) => {
  console.error(`tiergate: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
