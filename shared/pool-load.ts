/**
 * The load a pool worker reports on every internal answer (`x-tiergate-pool-load`): its requests in
 * flight and its cap, `<in flight>/<cap>`. The edge's per-region admission reads it; nothing else may
 * depend on it, and a missing or malformed value means "no signal".
 */

/** A pool worker's requests in flight and its cap. */
export interface PoolLoad {
  inFlight: number;
  limit: number;
}

/** Formats a load for the header. */
export function formatPoolLoad(load: PoolLoad): string {
  return `${load.inFlight}/${load.limit}`;
}

/** Parses the header; null when absent or malformed. */
export function parsePoolLoad(value: string | null | undefined): PoolLoad | null {
  if (!value) return null;
  const slash = value.indexOf("/");
  if (slash <= 0) return null;
  const inFlight = Number(value.slice(0, slash));
  const limit = Number(value.slice(slash + 1));
  if (!Number.isFinite(inFlight) || !Number.isFinite(limit) || inFlight < 0 || limit <= 0) return null;
  return { inFlight, limit };
}
