/** One chunk of a document, ready to embed. */
export interface TextChunk {
  index: number;
  /** The heading path the chunk sits under, prefixed to the text that is embedded and stored. */
  heading: string;
  text: string;
}

export interface ChunkingOptions {
  /** Upper bound on a chunk's body in characters (~200 MiniLM tokens at 800; MiniLM reads 256). */
  maxChars: number;
  /** Characters of the previous chunk's tail repeated at the start of the next one within a section. */
  overlapChars: number;
}

export const defaultChunking: ChunkingOptions = { maxChars: 800, overlapChars: 120 };

interface Section {
  heading: string;
  paragraphs: string[];
}

/** Splits on markdown headings (`#`…`######`); each section remembers its heading path. */
function sections(text: string, title: string): Section[] {
  const out: Section[] = [];
  const path: string[] = [];
  let current: Section = { heading: title, paragraphs: [] };
  for (const block of text.split(/\n\s*\n/)) {
    const trimmed = block.trim();
    if (!trimmed) continue;
    const heading = /^(#{1,6})\s+(.+)$/.exec(trimmed.split("\n")[0] ?? "");
    if (heading?.[1] && heading[2]) {
      if (current.paragraphs.length > 0) out.push(current);
      path.length = heading[1].length - 1;
      path[heading[1].length - 1] = heading[2].trim();
      const rest = trimmed.split("\n").slice(1).join("\n").trim();
      const names = path.filter(Boolean);
      current = { heading: names.length > 0 ? names.join(" › ") : title, paragraphs: rest ? [rest] : [] };
      continue;
    }
    current.paragraphs.push(trimmed.replace(/[ \t]*\n[ \t]*/g, "\n"));
  }
  if (current.paragraphs.length > 0) out.push(current);
  return out;
}

/** Breaks an over-long paragraph at sentence ends, and a sentence longer than `max` at word boundaries. */
function splitLong(paragraph: string, max: number): string[] {
  if (paragraph.length <= max) return [paragraph];
  const pieces: string[] = [];
  let piece = "";
  for (const sentence of paragraph.split(/(?<=[.!?])\s+/)) {
    let rest = sentence;
    while (rest.length > max) {
      const cut = rest.lastIndexOf(" ", max) > max / 2 ? rest.lastIndexOf(" ", max) : max;
      if (piece) pieces.push(piece);
      piece = "";
      pieces.push(rest.slice(0, cut).trim());
      rest = rest.slice(cut).trim();
    }
    if (piece && piece.length + 1 + rest.length > max) {
      pieces.push(piece);
      piece = rest;
    } else piece = piece ? `${piece} ${rest}` : rest;
  }
  if (piece) pieces.push(piece);
  return pieces;
}

function overlapTail(text: string, chars: number): string {
  if (chars <= 0 || text.length <= chars) return "";
  const tail = text.slice(-chars);
  const space = tail.indexOf(" ");
  return space >= 0 ? tail.slice(space + 1) : tail;
}

/**
 * The chunking strategy: split the document into heading sections; within a section, pack whole
 * paragraphs greedily while the chunk stays within `maxChars` (a longer paragraph is first split at
 * sentence ends, then at words); a chunk that continues a section starts with the last ~`overlapChars`
 * of the previous one, so a chunk is at most maxChars + overlapChars long. Chunks never span two
 * sections. Each chunk carries its heading path ("Title › Section"), which is put in front of its text.
 */
export function chunkDocument(
  text: string,
  title: string,
  options: ChunkingOptions = defaultChunking,
): TextChunk[] {
  const chunks: TextChunk[] = [];
  for (const section of sections(text, title)) {
    let body = "";
    let hasNewText = false;
    for (const paragraph of section.paragraphs.flatMap((p) => splitLong(p, options.maxChars))) {
      if (hasNewText && body.length + 2 + paragraph.length > options.maxChars) {
        chunks.push({ index: chunks.length, heading: section.heading, text: body });
        body = overlapTail(body, options.overlapChars);
      }
      body = body ? `${body}\n\n${paragraph}` : paragraph;
      hasNewText = true;
    }
    if (hasNewText) chunks.push({ index: chunks.length, heading: section.heading, text: body });
  }
  return chunks;
}

/** The text that is embedded and stored for a chunk: heading path, blank line, body. */
export function chunkText(chunk: TextChunk): string {
  return chunk.heading ? `${chunk.heading}\n\n${chunk.text}` : chunk.text;
}
