import { readFileSync, statSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ports } from "../../stack/ports.ts";
import { isAlive, logFile, readPid, tcpOpen } from "../../stack/process.ts";
import { kafkaService } from "../../stack/services/kafka.ts";
import { deleteTopic, ensureKafka, produceStrings, readAll, scratchTopic } from "../events/local-kafka.ts";

describe("Kafka stack service", () => {
  let topic = "";
  beforeAll(async () => {
    await ensureKafka();
    topic = await scratchTopic("lifecycle", 2);
  });
  afterAll(async () => {
    // Leave the broker running for the files that follow.
    await kafkaService.start();
    await deleteTopic(topic).catch(() => undefined);
  });

  it("starts healthy: the broker answers a metadata request on loopback", async () => {
    expect(await kafkaService.healthy()).toBe(true);
    expect(await tcpOpen(ports.kafka, "127.0.0.1")).toBe(true);
    expect(await tcpOpen(ports.kafkaController, "127.0.0.1")).toBe(true);
  });

  it("start is idempotent", async () => {
    const pid = readPid("kafka");
    await kafkaService.start();
    expect(readPid("kafka")).toBe(pid);
  });

  it("stops cleanly (SIGTERM, controlled shutdown): process gone, ports closed, unhealthy", async () => {
    await produceStrings(topic, ["one", "two", "three"]);
    const pid = readPid("kafka");
    const logBefore = statSync(logFile("kafka")).size;
    await kafkaService.stop();
    expect(isAlive(pid)).toBe(false);
    // A SIGKILL would not let the broker log the end of its controlled shutdown.
    const logged = readFileSync(logFile("kafka")).subarray(logBefore).toString("utf8");
    expect(logged).toMatch(/BrokerServer id=1\] shut down completed/);
    expect(await tcpOpen(ports.kafka)).toBe(false);
    expect(await kafkaService.healthy()).toBe(false);
  });

  it("restarts with its data: the topic's messages are still there", async () => {
    await kafkaService.start();
    expect(await kafkaService.healthy()).toBe(true);
    const values = await readAll(topic, 3);
    expect(values.sort()).toEqual(["one", "three", "two"]);
  });
});
