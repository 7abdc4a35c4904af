import { createPoolApp } from "./app.ts";
import { loadWorkerEnv } from "./env.ts";
import { listenForRestartReports } from "./restart-reports.ts";
import { buildPoolServices } from "./services.ts";

/** One pool worker process. Several share the port through SO_REUSEPORT; `main.ts` supervises them. */
const config = loadWorkerEnv();
const services = buildPoolServices(config);
const app = createPoolApp(services);
listenForRestartReports(services.metrics.registry);

const server = Bun.serve({
  hostname: config.POOL_HOST,
  port: config.POOL_PORT,
  reusePort: true,
  idleTimeout: 60,
  fetch: app.fetch,
});
const log = services.logger;
log.info("pool worker listening", { url: `http://${config.POOL_HOST}:${server.port}` });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("pool worker draining", { signal, in_flight: services.inFlight.count });
  services.inFlight.draining = true;
  const grace = new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_MS));
  await Promise.race([Promise.all([server.stop(false), services.inFlight.idle()]), grace]);
  await services.close();
  log.info("pool worker stopped cleanly");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
