import type { IngestProgress, IngestReport } from "./ingest.ts";

/** A one-line progress bar on stderr (redrawn in place on a terminal, every 10% otherwise). */
export function createProgressBar(stream: NodeJS.WriteStream = process.stderr): (p: IngestProgress) => void {
  const started = performance.now();
  let lastDecile = -1;
  return (p) => {
    const ratio = p.total === 0 ? 1 : p.done / p.total;
    const width = 30;
    const filled = Math.round(ratio * width);
    const seconds = (performance.now() - started) / 1000;
    const rate = seconds > 0 ? p.chunksWritten / seconds : 0;
    const unit = p.phase === "reembed" ? "chunks re-embedded" : "documents";
    const line = `${p.phase.padEnd(7)} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${p.done}/${p.total} ${unit}, ${p.chunksWritten} chunks embedded, ${rate.toFixed(1)} chunks/s`;
    if (stream.isTTY) {
      stream.write(`\r${line}`);
      if (p.done === p.total) stream.write("\n");
      return;
    }
    const decile = Math.floor(ratio * 10);
    if (decile !== lastDecile) {
      lastDecile = decile;
      stream.write(`${line}\n`);
    }
  };
}

/** The summary printed at the end of a backfill. */
export function formatSummary(report: IngestReport): string {
  const rate = report.seconds > 0 ? report.chunksEmbedded / report.seconds : 0;
  const lines = [
    `embedding version  ${report.modelVersion}`,
    `documents          ${report.documents} (${report.documentsSkipped} unchanged, skipped)`,
    `chunks embedded    ${report.chunksEmbedded} (${report.chunksAlreadyStored} already stored, skipped)`,
    `time               ${report.seconds.toFixed(2)} s`,
    `throughput         ${rate.toFixed(1)} chunks/s, ${(report.documents / Math.max(report.seconds, 1e-9)).toFixed(1)} documents/s`,
  ];
  if (report.reembedded) {
    lines.push(
      `re-embedded        ${report.reembedded.chunks} chunks from ${report.reembedded.from} (switched, old version deleted)`,
    );
  }
  return lines.join("\n");
}
