import { createEdgeApp } from "./app.ts";
import { bootLogger } from "./lib/boot-logger.ts";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (request: Request) => Response | Promise<Response>,
  ): unknown;
};

/** Deno entry: the same app, with the process environment as its bindings. */
const bindings = Deno.env.toObject();
const app = createEdgeApp();
Deno.serve(
  {
    port: Number(bindings.EDGE_PORT ?? 8787),
    hostname: bindings.EDGE_HOST ?? "127.0.0.1",
    onListen: ({ hostname, port }) =>
      bootLogger.info("edge listening", { url: `http://${hostname}:${port}` }),
  },
  (request) => app.fetch(request, bindings),
);
