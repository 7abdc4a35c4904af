// Runs in the browser: served transpiled by GET /dashboard/app.js. Chart.js comes as a global from
// /dashboard/chart.js (its UMD build, straight from node_modules).
import type { ChartConfiguration, ChartDataset, Chart as ChartInstance } from "chart.js";
import type { DashboardStats } from "./api-types.ts";
import { driftPanel, errorPanel, type Panel, panel, reasonPanels, tierPanel } from "./series.ts";

type ChartConstructor = new (canvas: HTMLCanvasElement, config: ChartConfiguration) => ChartInstance;
const ChartJs = (globalThis as unknown as { Chart: ChartConstructor }).Chart;

const palette = ["#2563eb", "#f59e0b", "#dc2626", "#16a34a", "#9333ea", "#0891b2", "#db2777", "#65a30d"];
const charts = new Map<string, ChartInstance>();

/** Points drawn per chart, for tests and for the status line. */
const drawn: Record<string, number> = {};
(globalThis as unknown as { tiergateDashboard: { drawn: Record<string, number> } }).tiergateDashboard = {
  drawn,
};

function timeLabel(ms: number, long: boolean): string {
  const iso = new Date(ms).toISOString();
  return long ? `${iso.slice(5, 10)} ${iso.slice(11, 16)}` : iso.slice(11, 16);
}

/** The time axis: long spans (hourly buckets or more) label days too. */
interface Axes {
  long: boolean;
  /** The y axis ends here (ratios: 1); unset, at the data's maximum. */
  yMax?: number;
}

/** What every chart shares: no animation, raw {x, y} points, the window as x axis, y from zero. */
function chartOptions(
  p: Panel,
  long: boolean,
  axes: { x?: object; y?: object },
): ChartConfiguration["options"] {
  return {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    scales: {
      x: {
        type: "linear",
        min: p.xMin,
        max: p.xMax,
        ticks: { callback: (v) => timeLabel(Number(v), long), maxTicksLimit: 8 },
        ...axes.x,
      },
      y: { beginAtZero: true, ...axes.y },
    },
  };
}

function line(id: string, p: Panel, { long, yMax }: Axes): void {
  const config: ChartConfiguration = {
    type: "line",
    data: {
      datasets: p.series.map(
        (d, i): ChartDataset => ({
          label: d.label,
          data: d.data,
          borderColor: palette[i % palette.length],
          backgroundColor: palette[i % palette.length],
          pointRadius: d.data.length > 60 ? 0 : 2,
          tension: 0,
          spanGaps: false,
        }),
      ),
    },
    options: chartOptions(p, long, { y: yMax === undefined ? {} : { max: yMax } }),
  };
  draw(id, config, p);
}

/** Stacked bars over time. */
function bars(id: string, p: Panel, { long }: Axes): void {
  const config: ChartConfiguration = {
    type: "bar",
    data: {
      datasets: p.series.map(
        (d, i): ChartDataset => ({
          label: d.label,
          data: d.data,
          backgroundColor: palette[i % palette.length],
        }),
      ),
    },
    options: chartOptions(p, long, { x: { stacked: true, offset: true }, y: { stacked: true } }),
  };
  draw(id, config, p);
}

/** Draws a panel, or says "no data" in its place: empty axes would read as a flat zero line. */
function draw(id: string, config: ChartConfiguration, p: Panel): void {
  charts.get(id)?.destroy();
  charts.delete(id);
  const canvas = document.getElementById(id);
  if (!(canvas instanceof HTMLCanvasElement)) return;
  const note = canvas.parentElement?.querySelector(".empty");
  if (note instanceof HTMLElement) note.hidden = !p.empty;
  canvas.hidden = p.empty;
  drawn[id] = p.series.reduce((sum, d) => sum + d.data.filter((point) => point.y !== null).length, 0);
  if (!p.empty) charts.set(id, new ChartJs(canvas, config));
}

function render(stats: DashboardStats): void {
  const long = stats.bucketSeconds >= 3600;
  const s = stats.series;
  const percentiles = (key: "latency_ms" | "ttft_ms") =>
    panel(
      stats,
      ["p50", "p95", "p99"].map((label, i) => ({
        label,
        points: s.map((p) => ({ x: p.t, y: p[key][i] ?? 0 })),
      })),
    );
  line("chart-latency", percentiles("latency_ms"), { long });
  line("chart-ttft", percentiles("ttft_ms"), { long });
  line(
    "chart-rps",
    panel(stats, [
      { label: "requests/s", points: s.map((p) => ({ x: p.t, y: p.requests / stats.bucketSeconds })) },
    ]),
    { long },
  );
  line(
    "chart-cache",
    panel(stats, [
      {
        label: "hit ratio",
        points: s.map((p) => ({ x: p.t, y: p.requests ? p.cache_hits / p.requests : 0 })),
      },
    ]),
    { long, yMax: 1 },
  );
  const reasons = reasonPanels(stats);
  bars("chart-fallback", reasons.fallbacks, { long });
  bars("chart-abstention", reasons.abstentions, { long });
  line("chart-errors", errorPanel(stats), { long });
  line("chart-drift", driftPanel(stats), { long });
  bars(
    "chart-tiers",
    tierPanel(stats, (p) => p.requests),
    { long },
  );
  bars(
    "chart-cost",
    tierPanel(stats, (p) => p.cost_usd),
    { long },
  );
}

async function refresh(): Promise<void> {
  const status = document.getElementById("status");
  const windowSelect = document.getElementById("window");
  const tenantInput = document.getElementById("tenant");
  const params = new URLSearchParams({
    window: windowSelect instanceof HTMLSelectElement ? windowSelect.value : "1h",
    tenant: tenantInput instanceof HTMLInputElement ? tenantInput.value.trim() : "",
  });
  try {
    const response = await fetch(`/dashboard/api/stats?${params}`, { credentials: "same-origin" });
    if (!response.ok) throw new Error(`${response.status} ${await response.text()}`);
    const stats = (await response.json()) as DashboardStats;
    render(stats);
    const total = stats.series.reduce((sum, p) => sum + p.requests, 0);
    if (status)
      status.textContent = `${total} requests · updated ${new Date().toISOString().slice(11, 19)} UTC`;
    document.body.dataset.ready = "1";
  } catch (error: unknown) {
    if (status) status.textContent = `failed: ${error instanceof Error ? error.message : String(error)}`;
    document.body.dataset.ready = "error";
  }
}

// Links may preselect: /dashboard?window=6h&tenant=acme
const initial = new URLSearchParams(location.search);
const windowSelect = document.getElementById("window");
const tenantInput = document.getElementById("tenant");
if (windowSelect instanceof HTMLSelectElement && initial.get("window"))
  windowSelect.value = initial.get("window") ?? "1h";
if (tenantInput instanceof HTMLInputElement) tenantInput.value = initial.get("tenant") ?? "";

for (const id of ["window", "tenant"])
  document.getElementById(id)?.addEventListener("change", () => void refresh());
void refresh();
setInterval(() => void refresh(), 15_000);
