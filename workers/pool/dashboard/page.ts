/** The dashboard's HTML shell; the charts are drawn by /dashboard/app.js from /dashboard/api/stats. */
export const dashboardPage = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>tiergate · dashboard</title>
<style>
  body { font-family: system-ui, sans-serif; margin: 0; background: #f6f7f9; color: #1d2330; }
  header { display: flex; gap: 1rem; align-items: center; padding: .75rem 1.25rem; background: #1d2330; color: #fff; }
  header h1 { font-size: 1.1rem; margin: 0 auto 0 0; }
  header label { font-size: .9rem; }
  #status { font-size: .85rem; opacity: .8; }
  main { display: grid; grid-template-columns: repeat(auto-fill, minmax(520px, 1fr)); gap: 1rem; padding: 1rem; }
  section { background: #fff; border-radius: 8px; padding: .75rem 1rem; box-shadow: 0 1px 2px #0002; }
  section h2 { font-size: .95rem; margin: 0 0 .5rem; }
  .chart { position: relative; height: 240px; }
  .empty { position: absolute; inset: 0; display: flex; align-items: center; justify-content: center; color: #6b7280; }
  .empty[hidden] { display: none; }
</style>
</head>
<body>
<header>
  <h1>tiergate</h1>
  <label>window
    <select id="window">
      <option value="15m">15 min</option><option value="1h" selected>1 h</option>
      <option value="6h">6 h</option><option value="24h">24 h</option><option value="7d">7 days</option>
    </select>
  </label>
  <label>tenant <input id="tenant" placeholder="all" size="14"></label>
  <span id="status">loading…</span>
</header>
<main>
  <section><h2>Latency p50 / p95 / p99 (ms)</h2><div class="chart"><canvas id="chart-latency"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Requests per second</h2><div class="chart"><canvas id="chart-rps"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Cache hit ratio</h2><div class="chart"><canvas id="chart-cache"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Error and shed (503) rates</h2><div class="chart"><canvas id="chart-errors"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Fallback rate by reason (failures)</h2><div class="chart"><canvas id="chart-fallback"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>RAG abstention rate by rule</h2><div class="chart"><canvas id="chart-abstention"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Time to first token p50 / p95 / p99 (ms)</h2><div class="chart"><canvas id="chart-ttft"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Drift score per tier</h2><div class="chart"><canvas id="chart-drift"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Tier mix (requests)</h2><div class="chart"><canvas id="chart-tiers"></canvas><p class="empty" hidden>No data in this window</p></div></section>
  <section><h2>Estimated cost per tier (USD)</h2><div class="chart"><canvas id="chart-cost"></canvas><p class="empty" hidden>No data in this window</p></div></section>
</main>
<script src="/dashboard/chart.js"></script>
<script src="/dashboard/app.js"></script>
</body>
</html>
`;
