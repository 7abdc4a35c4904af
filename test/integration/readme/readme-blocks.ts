import { readFileSync } from "node:fs";

/** A fenced code block of the README that a test runs, with what its output must contain. */
export interface ReadmeBlock {
  /** The fence's language: `sh`, `js` or `python`. */
  lang: string;
  code: string;
  expect: string;
  /** 1-based line of the marker, for messages. */
  line: number;
}

/**
 * Blocks marked `<!-- readme-test: expect "<text>" -->` on the line before their opening fence, in
 * README order. `<text>` is a JSON string: the block's standard output must contain it.
 */
export function readmeBlocks(readmePath: string): ReadmeBlock[] {
  const lines = readFileSync(readmePath, "utf8").split("\n");
  const blocks: ReadmeBlock[] = [];
  lines.forEach((line, i) => {
    const marker = /^<!-- readme-test: expect (".*") -->$/.exec(line.trim());
    if (!marker?.[1]) return;
    const fence = /^```(\w+)$/.exec(lines[i + 1] ?? "");
    if (!fence?.[1]) throw new Error(`README line ${i + 1}: a readme-test marker must precede a fence`);
    const end = lines.findIndex((l, j) => j > i + 1 && l.startsWith("```"));
    if (end < 0) throw new Error(`README line ${i + 2}: unclosed fence`);
    blocks.push({
      lang: fence[1],
      code: lines.slice(i + 2, end).join("\n"),
      expect: JSON.parse(marker[1]) as string,
      line: i + 1,
    });
  });
  return blocks;
}
