# syntax=docker/dockerfile:1
# The regional pool (Bun) and the edge (workerd), built from one checkout.
#   docker build --target pool -t tiergate-pool .
#   docker build --target edge -t tiergate-edge .
# Both run as a non-root user. The pool drains on SIGTERM (in-flight requests finish, events and request
# rows are flushed) within SHUTDOWN_GRACE_MS; give the orchestrator a longer stop timeout than that.

ARG NODE_IMAGE=node:20-bookworm-slim

# Dependencies: the lockfile decides every version. Install scripts stay off (npm 11's default), as in
# development; bun and workerd come as platform packages, so nothing is downloaded at run time.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --ignore-scripts --no-audit --no-fund \
  && cp node_modules/bun/bin/bun.exe /usr/local/bin/bun 2>/dev/null \
     || cp node_modules/@oven/bun-linux-x64/bin/bun /usr/local/bin/bun

# The edge bundle, exactly what `wrangler deploy` uploads.
FROM deps AS edge-build
COPY wrangler.toml tsconfig.json ./
COPY edge ./edge
COPY shared ./shared
RUN WRANGLER_SEND_METRICS=false npx wrangler deploy --dry-run --outdir /app/dist \
  && cp node_modules/@cloudflare/workerd-linux-64/bin/workerd /usr/local/bin/workerd

# Runtime dependencies of the pool only (no dev tools, no model weights, no chdb).
FROM ${NODE_IMAGE} AS pool-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund

FROM debian:bookworm-slim AS pool
RUN groupadd --system --gid 10001 tiergate && useradd --system --uid 10001 --gid tiergate tiergate \
  && apt-get update && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=deps /usr/local/bin/bun /usr/local/bin/bun
COPY --from=pool-deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY shared ./shared
COPY workers ./workers
# The disk spool must be writable and survive a container restart: mount a volume here.
RUN mkdir -p /var/lib/tiergate/spool && chown -R tiergate:tiergate /var/lib/tiergate
ENV NODE_ENV=production BUN_RUNTIME_TRANSPILER_CACHE_PATH=0 POOL_HOST=0.0.0.0 POOL_PORT=8080 SPOOL_DIR=/var/lib/tiergate/spool
USER tiergate
EXPOSE 8080
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s --retries=3 \
  CMD ["bun", "-e", "const r = await fetch('http://127.0.0.1:' + (process.env.POOL_PORT ?? '8080') + '/ready'); process.exit(r.ok ? 0 : 1)"]
# The supervisor runs POOL_PROCESSES workers plus the ingest process. On Kubernetes run one process per
# container instead (deploy/k8s/): `bun workers/pool/worker.ts` or `bun workers/pool/ingest.ts`.
CMD ["bun", "workers/pool/supervisor.ts"]

FROM debian:bookworm-slim AS edge
RUN groupadd --system --gid 10001 tiergate && useradd --system --uid 10001 --gid tiergate tiergate \
  && apt-get update && apt-get install -y --no-install-recommends ca-certificates \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=edge-build /usr/local/bin/workerd /usr/local/bin/workerd
COPY --from=edge-build /app/dist/worker.js ./worker.js
COPY deploy/edge.capnp ./edge.capnp
USER tiergate
EXPOSE 8787
HEALTHCHECK --interval=10s --timeout=3s --retries=3 CMD ["workerd", "--version"]
CMD ["workerd", "serve", "/app/edge.capnp", "--experimental"]
