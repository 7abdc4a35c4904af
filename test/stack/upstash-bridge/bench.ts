/**
 * Round-trip latency of the Upstash bridge against Redis itself. Needs the stack's redis and
 * upstash-bridge up. Run: `node_modules/.bin/bun test/stack/upstash-bridge/bench.ts [seconds]`.
 * Prints p50/p90/p99 and writes `.stack/results/upstash-bridge-bench.json`. Reports only, asserts nothing.
 */
import { Redis } from "@upstash/redis";
import { writeResults } from "../paths.ts";
import { host, localSecrets, ports } from "../ports.ts";
import { RedisPool } from "./redis-pool.ts";

const seconds = Number(process.argv[2] ?? 10);
const rate = 1_000;
const sequentialCount = 5_000;

interface Summary {
  name: string;
  count: number;
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

function summarize(name: string, samples: number[]): Summary {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
  const round = (n: number) => Math.round(n * 1000) / 1000;
  return {
    name,
    count: sorted.length,
    p50: round(at(0.5)),
    p90: round(at(0.9)),
    p99: round(at(0.99)),
    max: round(sorted.at(-1) ?? Number.NaN),
  };
}

async function sequential(name: string, call: () => Promise<unknown>): Promise<Summary> {
  for (let i = 0; i < 500; i++) await call(); // warm-up
  const samples: number[] = [];
  for (let i = 0; i < sequentialCount; i++) {
    const start = performance.now();
    await call();
    samples.push(performance.now() - start);
  }
  return summarize(`${name} (sequential)`, samples);
}

/** Open loop: starts `rate` calls per second regardless of how fast earlier ones finish. */
async function openLoop(name: string, call: () => Promise<unknown>): Promise<Summary> {
  const samples: number[] = [];
  const total = rate * seconds;
  const inFlight: Promise<void>[] = [];
  const begin = performance.now();
  let sent = 0;
  while (sent < total) {
    const due = Math.min(total, Math.floor(((performance.now() - begin) * rate) / 1000));
    for (; sent < due; sent++) {
      const start = performance.now();
      inFlight.push(call().then(() => void samples.push(performance.now() - start)));
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  await Promise.all(inFlight);
  return summarize(`${name} (${rate}/s for ${seconds} s)`, samples);
}

const pool = new RedisPool({ host, port: ports.redis, size: 1 });
const bridgeUrl = `http://${host}:${ports.upstashBridge}`;
const client = new Redis({ url: bridgeUrl, token: localSecrets.upstashToken, enableTelemetry: false });
const key = "bench:upstash-bridge:cached-response";
await client.set(key, { id: "chatcmpl-bench", choices: [{ message: { content: "x".repeat(800) } }] });

const rawBridgeGet = async () => {
  const response = await fetch(bridgeUrl, {
    method: "POST",
    headers: { authorization: `Bearer ${localSecrets.upstashToken}`, "upstash-encoding": "base64" },
    body: JSON.stringify(["GET", key]),
  });
  await response.json();
};

const results: Summary[] = [];
for (const [name, call] of [
  ["redis PING direct (RESP)", () => pool.exec([["PING"]])],
  ["redis GET direct (RESP)", () => pool.exec([["GET", key]])],
  ["bridge GET (fetch)", rawBridgeGet],
  ["bridge GET (@upstash/redis)", () => client.get(key)],
] as const) {
  results.push(await sequential(name, call));
}
results.push(await openLoop("redis GET direct (RESP)", () => pool.exec([["GET", key]])));
results.push(await openLoop("bridge GET (fetch)", rawBridgeGet));
results.push(await openLoop("bridge GET (@upstash/redis)", () => client.get(key)));
pool.close();

console.table(results);
const file = writeResults("upstash-bridge-bench", {
  at: new Date().toISOString(),
  runtime: `bun ${Bun.version}`,
  results,
});
console.log(`written to ${file}`);
