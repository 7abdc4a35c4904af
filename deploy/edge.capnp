# workerd config for the edge image (Dockerfile target `edge`): the bundle that `wrangler deploy`
# uploads, served by the open-source Workers runtime. Bindings come from the container's environment.
# Cron triggers do not fire under `workerd serve`; call the pool's drift route from your scheduler
# instead (README: Deploy). Override the listen address with `--socket-addr http=HOST:PORT`.
using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
    (name = "edge", worker = .edge),
    (name = "internet", network = (allow = ["public", "private", "local"])),
  ],
  sockets = [(name = "http", address = "*:8787", http = (), service = "edge")],
);

const edge :Workerd.Worker = (
  modules = [(name = "worker.js", esModule = embed "worker.js")],
  compatibilityDate = "2026-03-01",
  bindings = [
    (name = "UPSTASH_REDIS_REST_URL", fromEnvironment = "UPSTASH_REDIS_REST_URL"),
    (name = "UPSTASH_REDIS_REST_TOKEN", fromEnvironment = "UPSTASH_REDIS_REST_TOKEN"),
    (name = "POOL_REGIONS", fromEnvironment = "POOL_REGIONS"),
    (name = "POOL_SIGNING_SECRET", fromEnvironment = "POOL_SIGNING_SECRET"),
  ],
);
