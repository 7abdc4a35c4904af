import { tracingConfig } from "../../shared/tracing.ts";
import { startPoolTracing } from "../tracing/setup.ts";
import { createPoolApp } from "./app.ts";
import { loadWorkerEnv } from "./env.ts";
import { serveWorkerMetrics, workerMetricsSocket } from "./metrics/pool-aggregate.ts";
import { listenForRestartReports } from "./restart-reports.ts";
import { buildPoolServices } from "./services.ts";

/** One pool worker process. Several share the port through SO_REUSEPORT; `main.ts` supervises them. */
const config = loadWorkerEnv();
const tracing = startPoolTracing(tracingConfig(config, "tiergate-pool"), "worker");
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
const stopMetricsSocket =
  config.POOL_METRICS_SOCKET_DIR !== undefined && config.POOL_WORKER_INDEX !== undefined
    ? serveWorkerMetrics({
        registry: services.metrics.registry,
        socket: workerMetricsSocket(config.POOL_METRICS_SOCKET_DIR, config.POOL_WORKER_INDEX),
      })
    : () => undefined;
log.info("pool worker listening", { url: `http://${config.POOL_HOST}:${server.port}` });

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  log.info("pool worker draining", { signal, in_flight: services.inFlight.count });
  services.inFlight.draining = true;
  const grace = new Promise((resolve) => setTimeout(resolve, config.SHUTDOWN_GRACE_MS));
  await Promise.race([Promise.all([server.stop(false), services.inFlight.idle()]), grace]);
  stopMetricsSocket();
  await services.close();
  await tracing.shutdown();
  log.info("pool worker stopped cleanly");
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
