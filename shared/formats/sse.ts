/** Splits a byte stream of Server-Sent Events into events (`event` name, when given, and `data`). */
export class SseParser {
  private buffer = "";
  private readonly decoder = new TextDecoder();

  /** Called with each comment line's text (`: text`); a subclass may read trailers sent as comments. */
  protected comment(_text: string): void {}

  /** The `data` payload of every event completed by these bytes. */
  push(bytes: Uint8Array): string[] {
    return this.pushEvents(bytes).map((e) => e.data);
  }

  /** Every event completed by these bytes, with its name. Events without data are skipped. */
  pushEvents(bytes: Uint8Array): { event: string | undefined; data: string }[] {
    this.buffer += this.decoder.decode(bytes, { stream: true }).replaceAll("\r\n", "\n");
    const out: { event: string | undefined; data: string }[] = [];
    let end = this.buffer.indexOf("\n\n");
    while (end !== -1) {
      const lines = this.buffer.slice(0, end).split("\n");
      this.buffer = this.buffer.slice(end + 2);
      for (const line of lines) if (line.startsWith(":")) this.comment(line.slice(1).trimStart());
      const data = lines.filter((l) => l.startsWith("data:")).map((l) => l.slice(5).replace(/^ /, ""));
      const name = lines
        .find((l) => l.startsWith("event:"))
        ?.slice(6)
        .trim();
      if (data.length > 0) out.push({ event: name, data: data.join("\n") });
      end = this.buffer.indexOf("\n\n");
    }
    return out;
  }
}

/** One SSE event as text: `data:` only, or with an `event:` name. */
export function sseEvent(data: unknown, name?: string): string {
  const payload = typeof data === "string" ? data : JSON.stringify(data);
  return `${name ? `event: ${name}\n` : ""}data: ${payload}\n\n`;
}
