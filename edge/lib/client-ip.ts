/**
 * The client's address for per-IP limits. On Workers it is `CF-Connecting-IP`, which Cloudflare sets
 * and clients cannot override. Other runtimes (Deno) hand the socket address in through `rememberClientIp`,
 * which takes precedence, so a forged `CF-Connecting-IP` header there changes nothing.
 */
const socketAddresses = new WeakMap<Request, string>();

/** Records the socket address of `request` (Deno entry). */
export function rememberClientIp(request: Request, address: string): void {
  socketAddresses.set(request, address);
}

/** The client's address, or "unknown" when the runtime gives none. */
export function clientIp(request: Request): string {
  return socketAddresses.get(request) ?? request.headers.get("cf-connecting-ip") ?? "unknown";
}
