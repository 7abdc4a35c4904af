import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { z } from "zod";
import { ports } from "../../stack/ports.ts";
import { isAlive, readPid, sleep, tcpOpen } from "../../stack/process.ts";
import { clickhouseService } from "../../stack/services/clickhouse.ts";
import { dropDatabase, localClient, scratchDatabase } from "../clickhouse/local-clickhouse.ts";

const database = scratchDatabase("lifecycle");
const countRow = z.object({ n: z.number() });

async function rowCount(): Promise<number> {
  const ch = localClient("default");
  try {
    const [row] = await ch.query("SELECT count() AS n FROM {db:Identifier}.kept", { db: database }, countRow);
    return row?.n ?? -1;
  } finally {
    await ch.close();
  }
}

describe("ClickHouse stack service", () => {
  beforeAll(async () => {
    await clickhouseService.install();
    await clickhouseService.start();
  });
  afterAll(async () => {
    // Leave the service running for the files that follow.
    await clickhouseService.start();
    await dropDatabase(database);
  });

  it("starts healthy and answers on its loopback port only", async () => {
    expect(await clickhouseService.healthy()).toBe(true);
    expect(await tcpOpen(ports.clickhouse, "127.0.0.1")).toBe(true);
    // config.xml sets listen_host=127.0.0.1; the engine's default would also bind [::1].
    expect(await tcpOpen(ports.clickhouse, "::1")).toBe(false);
  });

  it("start is idempotent", async () => {
    const pid = readPid("clickhouse");
    await clickhouseService.start();
    expect(readPid("clickhouse")).toBe(pid);
  });

  it("keeps data across a restart", async () => {
    const ch = localClient("default");
    await ch.command("CREATE DATABASE IF NOT EXISTS {db:Identifier}", { db: database });
    await ch.command("CREATE TABLE {db:Identifier}.kept (n UInt32) ENGINE = MergeTree ORDER BY n", {
      db: database,
    });
    await ch.insert(`${database}.kept`, [{ n: 1 }, { n: 2 }, { n: 3 }]);
    await ch.close();
    const before = readPid("clickhouse");
    await clickhouseService.restart();
    expect(readPid("clickhouse")).not.toBe(before);
    expect(await rowCount()).toBe(3);
  });

  it("stops cleanly: process gone, port closed, health check false", async () => {
    const pid = readPid("clickhouse");
    await clickhouseService.stop();
    expect(isAlive(pid)).toBe(false);
    expect(await tcpOpen(ports.clickhouse)).toBe(false);
    expect(await clickhouseService.healthy()).toBe(false);
    await clickhouseService.stop(); // idempotent
    await clickhouseService.start();
    expect(await clickhouseService.healthy()).toBe(true);
  });

  it("stops on SIGTERM too (the server cancels its own keep-alive query)", async () => {
    const pid = readPid("clickhouse");
    expect(pid).toBeDefined();
    if (pid !== undefined) process.kill(pid, "SIGTERM");
    for (let i = 0; i < 200 && isAlive(pid); i++) await sleep(100);
    expect(isAlive(pid)).toBe(false);
    expect(await clickhouseService.healthy()).toBe(false);
    await clickhouseService.start();
    expect(await rowCount()).toBe(3);
  });
});
