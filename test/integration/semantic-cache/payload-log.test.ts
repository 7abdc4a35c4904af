import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { headers } from "../../../shared/headers.ts";
import { createLogger } from "../../../shared/logger.ts";
import { signedHeaders } from "../../../shared/signing.ts";
import { createClickHouse } from "../../../workers/clickhouse/client.ts";
import { clickhouseConfig } from "../../../workers/clickhouse/config.ts";
import { PayloadLogService } from "../../../workers/payload-log/service.ts";
import { PoolUnderTest } from "../events/pool-under-test.ts";

const pool = new PoolUnderTest(18_135, "payload-log-test");
const clickhouse = createClickHouse(clickhouseConfig(pool.env));
const reader = new PayloadLogService(clickhouse, createLogger({ level: "error" }));
const run = crypto.randomUUID().slice(0, 8);

async function ask(tenant: string, prompt: string, directive: string | null): Promise<string> {
  const path = "/internal/v1/chat/completions";
  const requestId = `req_${crypto.randomUUID().replaceAll("-", "")}`;
  const body = JSON.stringify({
    model: "auto",
    max_tokens: 8,
    messages: [{ role: "user", content: prompt }],
  });
  const response = await fetch(`${pool.url}${path}`, {
    method: "POST",
    body,
    headers: {
      "content-type": "application/json",
      ...(await signedHeaders(pool.env.POOL_SIGNING_SECRET, {
        method: "POST",
        pathAndQuery: path,
        body,
        headers: {
          [headers.requestId]: requestId,
          [headers.tenant]: tenant,
          [headers.deadline]: String(Date.now() + 30_000),
          ...(directive === null ? {} : { [headers.poolPayloadLog]: directive }),
        },
      })),
    },
  });
  expect(response.status).toBe(200);
  await response.arrayBuffer();
  return requestId;
}

beforeAll(() => pool.start(), 120_000);
afterAll(async () => {
  await pool.stop();
  await clickhouse.close();
});

describe("payload logging", () => {
  it("writes nothing unless the key enables it, and a tenant reads only its own rows", async () => {
    const mine = `payload-${run}-a`;
    const theirs = `payload-${run}-b`;
    const off = await ask(mine, "not logged", null);
    const on = await ask(mine, "logged for a day", "days=1");
    const other = await ask(theirs, "logged for the other tenant", "on");

    const deadline = Date.now() + 20_000;
    let rows = await reader.list(mine);
    while (!rows.some((r) => r.request_id === on) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 300));
      rows = await reader.list(mine);
    }
    const logged = rows.find((r) => r.request_id === on);
    expect(logged).toBeDefined();
    expect(JSON.parse(logged?.request ?? "{}")).toMatchObject({
      messages: [{ content: "logged for a day" }],
    });
    expect(JSON.parse(logged?.response ?? "{}")).toMatchObject({ object: "chat.completion" });
    // Rows are written in order, so the earlier unlogged request would be there by now.
    expect(rows.some((r) => r.request_id === off)).toBe(false);
    expect(rows.some((r) => r.request_id === other)).toBe(false);

    const theirRows = await reader.list(theirs);
    expect(theirRows.map((r) => r.request_id)).toEqual([other]);
  }, 60_000);
});
