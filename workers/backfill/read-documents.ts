import { readdirSync, readFileSync, statSync } from "node:fs";
import { basename, extname, join, relative, sep } from "node:path";

/** A source document as the backfill sees it: plain text plus where it came from. */
export interface SourceDocument {
  /** Stable id: the path relative to the given root (a file given alone: its name). */
  documentId: string;
  source: string;
  format: "markdown" | "text" | "html";
  title: string;
  text: string;
  metadata: Record<string, string>;
}

const formats: Record<string, SourceDocument["format"]> = {
  ".md": "markdown",
  ".markdown": "markdown",
  ".txt": "text",
  ".text": "text",
  ".html": "html",
  ".htm": "html",
};

const entities: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: " " };

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]+|#\d+|[a-z]+);/gi, (whole, name: string) => {
    if (name.startsWith("#x") || name.startsWith("#X"))
      return String.fromCodePoint(Number.parseInt(name.slice(2), 16));
    if (name.startsWith("#")) return String.fromCodePoint(Number.parseInt(name.slice(1), 10));
    return entities[name.toLowerCase()] ?? whole;
  });
}

/**
 * HTML to text: drops script/style/head, turns block ends into paragraph breaks and headings into
 * markdown-style `#` lines (so chunking treats both formats alike), strips the remaining tags.
 */
export function htmlToText(html: string): { title: string; text: string } {
  const title = decodeEntities(/<title[^>]*>([\s\S]*?)<\/title>/i.exec(html)?.[1]?.trim() ?? "");
  const body = html
    .replace(/<(script|style|head|noscript|template)\b[\s\S]*?<\/\1>/gi, " ")
    .replace(/<!--[\s\S]*?-->/g, " ")
    .replace(/<h([1-6])\b[^>]*>([\s\S]*?)<\/h\1>/gi, (_, level: string, inner: string) => {
      return `\n\n${"#".repeat(Number(level))} ${inner.replace(/<[^>]+>/g, "").trim()}\n\n`;
    })
    .replace(/<(br)\s*\/?>/gi, "\n")
    .replace(/<\/(p|div|li|tr|section|article|pre|blockquote|ul|ol|table)>/gi, "\n\n")
    .replace(/<li\b[^>]*>/gi, "- ")
    .replace(/<[^>]+>/g, " ");
  const text = decodeEntities(body)
    .split("\n")
    .map((line) => line.replace(/[ \t]+/g, " ").trim())
    .join("\n")
    .replace(/\n{3,}/g, "\n\n")
    .trim();
  return { title, text };
}

function markdownTitle(text: string): string {
  return /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? "";
}

function readOne(path: string, documentId: string): SourceDocument | null {
  const format = formats[extname(path).toLowerCase()];
  if (!format) return null;
  const raw = readFileSync(path, "utf8").replace(/\r\n?/g, "\n");
  const converted = format === "html" ? htmlToText(raw) : { title: markdownTitle(raw), text: raw.trim() };
  return {
    documentId,
    source: documentId,
    format,
    title: converted.title || basename(path),
    text: converted.text,
    metadata: { format },
  };
}

/** Markdown, text and HTML files under `path` (a directory, recursively, in sorted order) or `path` itself. */
export function readDocuments(path: string): SourceDocument[] {
  if (statSync(path).isFile()) {
    const one = readOne(path, basename(path));
    return one ? [one] : [];
  }
  const files: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) =>
      a.name.localeCompare(b.name),
    )) {
      if (entry.name.startsWith(".")) continue;
      const full = join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.isFile()) files.push(full);
    }
  };
  walk(path);
  return files
    .map((file) => readOne(file, relative(path, file).split(sep).join("/")))
    .filter((doc): doc is SourceDocument => doc !== null && doc.text.length > 0);
}
