import { describe, expect, it } from "vitest";
import { chunkDocument, chunkText } from "../../../workers/backfill/chunking.ts";
import { htmlToText } from "../../../workers/backfill/read-documents.ts";
import { keywordTerms } from "../../../workers/retrieval/text.ts";

describe("chunking", () => {
  it("keeps a short document in one chunk under its title", () => {
    const chunks = chunkDocument("First paragraph.\n\nSecond paragraph.", "Doc");
    expect(chunks).toEqual([{ index: 0, heading: "Doc", text: "First paragraph.\n\nSecond paragraph." }]);
    expect(chunkText(chunks[0] ?? { index: 0, heading: "", text: "" })).toBe(
      "Doc\n\nFirst paragraph.\n\nSecond paragraph.",
    );
  });

  it("never spans two sections and names the heading path", () => {
    const text = "# Guide\n\nIntro.\n\n## Install\n\nRun it.\n\n## Use\n\nCall it.";
    const chunks = chunkDocument(text, "Guide");
    expect(chunks.map((c) => [c.heading, c.text])).toEqual([
      ["Guide", "Intro."],
      ["Guide › Install", "Run it."],
      ["Guide › Use", "Call it."],
    ]);
  });

  it("packs paragraphs up to maxChars and overlaps consecutive chunks of a section", () => {
    const paragraphs = Array.from({ length: 12 }, (_, i) => `Paragraph ${i} ${"word ".repeat(30).trim()}.`);
    const chunks = chunkDocument(paragraphs.join("\n\n"), "T", { maxChars: 400, overlapChars: 50 });
    expect(chunks.length).toBeGreaterThan(3);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(450);
    for (let i = 1; i < chunks.length; i++) {
      const previousTail = (chunks[i - 1]?.text ?? "").slice(-20);
      expect(chunks[i]?.text).toContain(previousTail);
    }
    const all = chunks.map((c) => c.text).join(" ");
    for (const p of paragraphs) expect(all).toContain(p.slice(0, 12));
  });

  it("splits a paragraph longer than maxChars at sentences, then words", () => {
    const long = `${"A sentence that goes on. ".repeat(40)}${"x".repeat(30)}`;
    const chunks = chunkDocument(long, "T", { maxChars: 200, overlapChars: 0 });
    expect(chunks.length).toBeGreaterThan(4);
    for (const chunk of chunks) expect(chunk.text.length).toBeLessThanOrEqual(200);
  });
});

describe("HTML to text", () => {
  it("drops scripts and styles, keeps headings as markdown and decodes entities", () => {
    const { title, text } = htmlToText(
      "<html><head><title>T &amp; U</title><style>p{}</style></head><body><h2>Part</h2><p>a &lt; b</p><script>x()</script><p>c&#39;d</p></body></html>",
    );
    expect(title).toBe("T & U");
    expect(text).toBe("## Part\n\na < b\n\nc'd");
  });
});

describe("keyword terms", () => {
  it("lower-cases, splits on non-alphanumerics and drops stop words and duplicates", () => {
    expect(keywordTerms("What is the HNSW index? The hnsw INDEX, in ClickHouse-26")).toEqual([
      "hnsw",
      "index",
      "clickhouse",
      "26",
    ]);
  });
});
