import { createEdgeApp } from "./app.ts";
import { bootLogger } from "./lib/boot-logger.ts";
import { rememberClientIp } from "./lib/client-ip.ts";
import { localStackEnvPath, parseLocalStackEnv, withLocalStackDefaults } from "./lib/local-bindings.ts";

declare const Deno: {
  env: { toObject(): Record<string, string> };
  readTextFileSync(path: string): string;
  serve(
    options: {
      port: number;
      hostname: string;
      onListen?: (addr: { hostname: string; port: number }) => void;
    },
    handler: (request: Request, info: { remoteAddr: { hostname: string } }) => Response | Promise<Response>,
  ): unknown;
};

/** The local stack's settings file, when this runs from a checkout whose stack has come up. */
function readLocalStackEnv(env: Record<string, string>): string | undefined {
  try {
    return Deno.readTextFileSync(localStackEnvPath(env, new URL("../", import.meta.url)));
  } catch {
    return undefined;
  }
}

/**
 * Deno entry: the same app, with the process environment as its bindings. Variables it leaves unset
 * come from the local stack's settings when there are any (see edge/lib/local-bindings.ts).
 */
const environment = Deno.env.toObject();
const bindings = withLocalStackDefaults(environment, parseLocalStackEnv(readLocalStackEnv(environment)));
const app = createEdgeApp();
Deno.serve(
  {
    port: Number(bindings.EDGE_PORT ?? 8787),
    hostname: bindings.EDGE_HOST ?? "127.0.0.1",
    onListen: ({ hostname, port }) =>
      bootLogger.info("edge listening", { url: `http://${hostname}:${port}` }),
  },
  (request, info) => {
    rememberClientIp(request, info.remoteAddr.hostname);
    return app.fetch(request, bindings);
  },
);
