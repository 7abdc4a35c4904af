import type { ApiKey } from "../db/schema.ts";

/**
 * When the secret with `keyHash` stops working, as ISO time (null: never): the key's expiry, or for the
 * secret a rotation replaced, the end of its grace (already past when the grace was 0 or is over).
 */
export function secretExpiry(row: ApiKey, keyHash: string): string | null {
  const times: number[] = [];
  if (row.expiresAt) times.push(row.expiresAt.getTime());
  if (row.keyHash !== keyHash) times.push(row.previousKeyExpiresAt?.getTime() ?? 0);
  return times.length === 0 ? null : new Date(Math.min(...times)).toISOString();
}
