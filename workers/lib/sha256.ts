import { createHash } from "node:crypto";

/** Hex sha256 of a string (as UTF-8) or bytes, synchronously; equals shared/signing.ts `sha256Hex`. */
export function sha256HexSync(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}
