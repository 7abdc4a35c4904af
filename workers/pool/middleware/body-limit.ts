import { GatewayError } from "../../../shared/errors.ts";

function tooLarge(maxBytes: number): GatewayError {
  return new GatewayError("PAYLOAD_TOO_LARGE", `Request body exceeds ${maxBytes} bytes.`);
}

/**
 * Reads a request body of at most `maxBytes`: a declared `content-length` over the limit is refused
 * before a byte is read, and a body without one is cut off (and refused) as soon as it passes the
 * limit, so no caller can make the pool buffer more than that. 413 in the OpenAI shape.
 *
 * A body with a `content-length` within the limit and no `transfer-encoding` is read in one native
 * call: HTTP/1.1 framing ends it at that length, so it cannot grow past the limit, and pumping a JS
 * stream reader chunk by chunk cost the pool's workers ~5% of their JS per call. A body longer than it
 * declared (possible only for a Request built in-process) is still refused.
 */
export async function readBodyWithin(request: Request, maxBytes: number): Promise<Uint8Array> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > maxBytes) throw tooLarge(maxBytes);
  if (!request.body) return new Uint8Array(0);
  if (declared !== null && /^\d+$/.test(declared) && !request.headers.has("transfer-encoding")) {
    const whole = new Uint8Array(await request.arrayBuffer());
    if (whole.byteLength > maxBytes) throw tooLarge(maxBytes);
    return whole;
  }
  const reader = request.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1 && chunks[0]) return chunks[0];
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.byteLength;
  }
  return out;
}
