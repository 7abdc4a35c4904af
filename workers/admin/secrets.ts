// Web Crypto only: the same code runs in Bun, Node and workerd.

const base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** `prefix` + 32 random base62 characters (~190 bits). */
export function randomSecret(prefix: string, length = 32): string {
  let out = prefix;
  while (out.length < prefix.length + length) {
    for (const byte of crypto.getRandomValues(new Uint8Array(48))) {
      // 248 = 4 * 62: rejecting larger bytes keeps every character equally likely.
      if (byte < 248 && out.length < prefix.length + length) out += base62[byte % 62];
    }
  }
  return out;
}

/** A new id with a readable prefix (`key_…`, `adm_…`). */
export function newId(prefix: string): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "")}`;
}

/** Serialises a nullable Date for the wire. */
export function iso(value: Date | null): string | null {
  return value ? value.toISOString() : null;
}
