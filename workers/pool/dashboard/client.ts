// Runs in the browser: served transpiled by GET /dashboard/app.js. Chart.js comes as a global from
// /dashboard/chart.js (its UMD build, straight from node_modules).
import type { ChartConfiguration, ChartDataset, Chart as ChartInstance } from "chart.js";
import type { DashboardStats } from "./api-types.ts";

type ChartConstructor = new (canvas: HTMLCanvasElement, config: ChartConfiguration) => ChartInstance;
const ChartJs = (globalThis as unknown as { Chart: ChartConstructor }).Chart;

const palette = ["#2563eb", "#f59e0b", "#dc2626", "#16a34a", "#9333ea", "#0891b2", "#db2777", "#65a30d"];
const charts = new Map<string, ChartInstance>();

/** Points drawn per chart, for tests and for the status line. */
const drawn: Record<string, number> = {};
(globalThis as unknown as { tiergateDashboard: { drawn: Record<string, number> } }).tiergateDashboard = {
  drawn,
};

type Point = { x: number; y: number };

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

/** What every chart shares: no animation, raw {x, y} points, a time x axis, a y axis from zero. */
function chartOptions(long: boolean, axes: { x?: object; y?: object }): ChartConfiguration["options"] {
  return {
    animation: false,
    maintainAspectRatio: false,
    parsing: false,
    scales: {
      x: {
        type: "linear",
        ticks: { callback: (v) => timeLabel(Number(v), long), maxTicksLimit: 8 },
        ...axes.x,
      },
      y: { beginAtZero: true, ...axes.y },
    },
  };
}

function line(id: string, datasets: { label: string; data: Point[] }[], { long, yMax }: Axes): void {
  const config: ChartConfiguration = {
    type: "line",
    data: {
      datasets: datasets.map(
        (d, i): ChartDataset => ({
          label: d.label,
          data: d.data,
          borderColor: palette[i % palette.length],
          backgroundColor: palette[i % palette.length],
          pointRadius: d.data.length > 60 ? 0 : 2,
          tension: 0.2,
        }),
      ),
    },
    options: chartOptions(long, { y: yMax === undefined ? {} : { max: yMax } }),
  };
  draw(id, config, datasets);
}

/** Stacked bars over time. */
function bars(id: string, datasets: { label: string; data: Point[] }[], { long }: Axes): void {
  const config: ChartConfiguration = {
    type: "bar",
    data: {
      datasets: datasets.map(
        (d, i): ChartDataset => ({
          label: d.label,
          data: d.data,
          backgroundColor: palette[i % palette.length],
        }),
      ),
    },
    options: chartOptions(long, { x: { stacked: true, offset: true }, y: { stacked: true } }),
  };
  draw(id, config, datasets);
}

function draw(id: string, config: ChartConfiguration, datasets: { data: Point[] }[]): void {
  charts.get(id)?.destroy();
  const canvas = document.getElementById(id);
  if (!(canvas instanceof HTMLCanvasElement)) return;
  charts.set(id, new ChartJs(canvas, config));
  drawn[id] = datasets.reduce((sum, d) => sum + d.data.length, 0);
}

function render(stats: DashboardStats): void {
  const long = stats.bucketSeconds >= 3600;
  const s = stats.series;
  const q = (i: number, key: "latency_ms" | "ttft_ms") => s.map((p) => ({ x: p.t, y: p[key][i] ?? 0 }));
  const percentiles = (key: "latency_ms" | "ttft_ms") =>
    ["p50", "p95", "p99"].map((label, i) => ({ label, data: q(i, key) }));
  line("chart-latency", percentiles("latency_ms"), { long });
  line("chart-ttft", percentiles("ttft_ms"), { long });
  line(
    "chart-rps",
    [{ label: "requests/s", data: s.map((p) => ({ x: p.t, y: p.requests / stats.bucketSeconds })) }],
    { long },
  );
  line(
    "chart-cache",
    [{ label: "hit ratio", data: s.map((p) => ({ x: p.t, y: p.requests ? p.cache_hits / p.requests : 0 })) }],
    { long, yMax: 1 },
  );
  const reasons = [...new Set(s.flatMap((p) => Object.keys(p.fallback_reasons)))].sort();
  bars(
    "chart-fallback",
    reasons.map((reason) => ({
      label: reason,
      data: s.map((p) => ({ x: p.t, y: p.requests ? (p.fallback_reasons[reason] ?? 0) / p.requests : 0 })),
    })),
    { long },
  );
  const driftTiers = [...new Set(stats.drift.map((d) => d.tier))].sort();
  line(
    "chart-drift",
    driftTiers.map((tier) => ({
      label: tier,
      data: stats.drift.filter((d) => d.tier === tier).map((d) => ({ x: d.t, y: d.score })),
    })),
    { long },
  );
  const tiers = [...new Set(stats.tiers.map((p) => p.tier))].sort();
  const perTier = (tier: string, value: (p: DashboardStats["tiers"][number]) => number) => {
    const byBucket = new Map<number, number>();
    for (const p of stats.tiers) if (p.tier === tier) byBucket.set(p.t, (byBucket.get(p.t) ?? 0) + value(p));
    return [...byBucket].map(([x, y]) => ({ x, y }));
  };
  bars(
    "chart-tiers",
    tiers.map((tier) => ({ label: tier, data: perTier(tier, (p) => p.requests) })),
    { long },
  );
  bars(
    "chart-cost",
    tiers.map((tier) => ({ label: tier, data: perTier(tier, (p) => p.cost_usd) })),
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
