import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LoadTally } from "../../bench/load.ts";

let server: Server;
let url: string;

beforeAll(async () => {
  // Answers 200 with x-cache: HIT, or 503 with a shed header when the body says so.
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (chunk) => {
      body += chunk;
    });
    req.on("end", () => {
      if (body === "shed") res.writeHead(503, { "x-tiergate-shed": "isolate" }).end("{}");
      else res.writeHead(200, { "x-cache": "HIT" }).end("{}");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

describe("load tally", () => {
  for (const keepAliveIdleMs of [undefined, 1_000]) {
    it(`counts answers, the counted header and each answer's layer (${keepAliveIdleMs ? "keep-alive client" : "fetch"})`, async () => {
      const answers: string[] = [];
      const tally = new LoadTally({
        url,
        headers: {},
        body: (i) => (i === 2 ? "shed" : "ok"),
        countHeader: "x-cache",
        onAnswer: (i, status, header) => answers.push(`${i} ${status} ${header("x-tiergate-shed") ?? "-"}`),
        ...(keepAliveIdleMs ? { keepAliveIdleMs } : {}),
      });
      for (let i = 0; i < 3; i++) await tally.send(i, performance.now());
      tally.close();
      const result = tally.result(1);
      expect(result.status_classes).toEqual({ "2xx": 2, "5xx": 1 });
      expect(result.header_counts).toEqual({ HIT: 2, "(none)": 1 });
      expect(answers).toEqual(["0 200 -", "1 200 -", "2 503 isolate"]);
    });
  }
});
