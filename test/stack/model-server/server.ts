// The local stand-in for vLLM: an OpenAI-compatible server over real small models, run with Bun.
// Usage: bun test/stack/model-server/server.ts --port=8000 [--host=127.0.0.1]
// Weights must already be in .stack/models (the stack service's install step puts them there).
import { existsSync } from "node:fs";
import { createModelServerApp } from "./app.ts";
import { ChatEngine } from "./chat-engine.ts";
import { loadModelServerConfig } from "./config.ts";
import { EmbeddingEngine } from "./embedding-engine.ts";
import { ModelServerMetrics } from "./metrics.ts";
import { SerialQueue } from "./serial-queue.ts";
import type { ServerState } from "./server-state.ts";
import { miniLmWeights, smolLm2Weights, weightPath } from "./weights.ts";

function flag(name: string, fallback: string): string {
  const prefix = `--${name}=`;
  return process.argv.find((a) => a.startsWith(prefix))?.slice(prefix.length) ?? fallback;
}

const port = Number.parseInt(flag("port", "8000"), 10);
const hostname = flag("host", "127.0.0.1");
const config = loadModelServerConfig(process.env);

const state: ServerState = {
  config,
  engines: undefined,
  generationQueue: new SerialQueue(config.maxWaiting),
  embeddingQueue: new SerialQueue(config.maxWaiting),
  metrics: new ModelServerMetrics(config.models.map((m) => m.name)),
};

const gguf = weightPath(smolLm2Weights, "SmolLM2-135M-Instruct.Q4_1.gguf");
const onnx = weightPath(miniLmWeights, "all-minilm-l6-v2.onnx");
const tokenizer = weightPath(miniLmWeights, "all-minilm-l6-v2-tokenizer.json");
for (const file of [gguf, onnx, tokenizer]) {
  if (!existsSync(file)) {
    console.error(`model-server: missing ${file}; run \`npm run stack -- up model-server\` to fetch it`);
    process.exit(1);
  }
}

const app = createModelServerApp(state);
// idleTimeout 0: a request may wait in the generation queue longer than Bun's default 10 s.
const server = Bun.serve({ hostname, port, fetch: app.fetch, idleTimeout: 0 });
console.log(`model-server: listening on http://${hostname}:${server.port}, loading models…`);

const loadStarted = performance.now();
const [chat, embedding] = await Promise.all([
  ChatEngine.load(gguf, { contextSize: config.contextSize, threads: config.threads }),
  EmbeddingEngine.load(onnx, tokenizer),
]);
state.engines = { chat, embedding };
console.log(
  `model-server: ready in ${Math.round(performance.now() - loadStarted)} ms; models: ${config.models.map((m) => m.name).join(", ")}`,
);

const shutdown = () => {
  console.log("model-server: stopping");
  server.stop(true);
  void chat.dispose().finally(() => process.exit(0));
};
process.on("SIGTERM", shutdown);
process.on("SIGINT", shutdown);
