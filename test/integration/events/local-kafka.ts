import { randomUUID } from "node:crypto";
import { Admin, Consumer, Producer, stringDeserializers, stringSerializers } from "@platformatic/kafka";
import { afterAll, beforeAll } from "vitest";
import { kafkaService, localKafkaBrokers } from "../../stack/services/kafka.ts";
import { dropDatabase, migrateScratchDatabase } from "../clickhouse/local-clickhouse.ts";
import "../../../workers/events/kafka-client.ts";

export { localKafkaBrokers };

/** Starts the local broker when it is not up (the integration global setup normally has). */
export async function ensureKafka(): Promise<void> {
  await kafkaService.install();
  await kafkaService.start();
}

/**
 * For a describe block of the Kafka → ClickHouse path: the broker up and `database` migrated before its
 * tests; afterwards the database and every topic pushed to the returned list are deleted.
 */
export function useKafkaAndScratchDatabase(database: string): string[] {
  const topicsMade: string[] = [];
  beforeAll(async () => {
    await Promise.all([ensureKafka(), migrateScratchDatabase(database)]);
  });
  afterAll(async () => {
    for (const t of topicsMade) await deleteTopic(t).catch(() => undefined);
    await dropDatabase(database);
  });
  return topicsMade;
}

/** A fresh topic per test, so tests never see each other's messages. */
export async function scratchTopic(prefix: string, partitions = 3): Promise<string> {
  const topic = `test.${prefix}.${randomUUID().slice(0, 8)}`;
  const admin = new Admin({ clientId: "tiergate-test", bootstrapBrokers: localKafkaBrokers });
  try {
    await admin.createTopics({ topics: [topic], partitions, replicas: 1 });
  } finally {
    await admin.close();
  }
  return topic;
}

export async function deleteTopic(topic: string): Promise<void> {
  const admin = new Admin({ clientId: "tiergate-test", bootstrapBrokers: localKafkaBrokers });
  try {
    await admin.deleteTopics({ topics: [topic] });
  } finally {
    await admin.close();
  }
}

export async function produceStrings(topic: string, values: string[]): Promise<void> {
  const producer = new Producer({
    clientId: "tiergate-test",
    bootstrapBrokers: localKafkaBrokers,
    serializers: stringSerializers,
    idempotent: true,
  });
  try {
    await producer.send({ messages: values.map((value) => ({ topic, key: "k", value })) });
  } finally {
    await producer.close();
  }
}

/**
 * Reads a topic from the beginning with a throwaway group until `expected` messages arrived or
 * `idleMs` passed without a new one; returns the values.
 */
export async function readAll(topic: string, expected: number, idleMs = 5_000): Promise<string[]> {
  const consumer = new Consumer({
    clientId: "tiergate-test",
    groupId: `test-${randomUUID()}`,
    bootstrapBrokers: localKafkaBrokers,
    deserializers: stringDeserializers,
  });
  const values: string[] = [];
  try {
    const stream = await consumer.consume({
      topics: [topic],
      mode: "earliest",
      autocommit: false,
      maxWaitTime: 200,
    });
    await new Promise<void>((resolve) => {
      let idle = setTimeout(resolve, idleMs * 3);
      stream.on("data", (message) => {
        values.push(message.value ?? "");
        clearTimeout(idle);
        if (values.length >= expected) resolve();
        else idle = setTimeout(resolve, idleMs);
      });
    });
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return values;
}

/** Messages in a topic: the sum of its partitions' end offsets (no transactions, so no control records). */
export async function messageCount(topic: string): Promise<number> {
  const consumer = new Consumer({
    clientId: "tiergate-test",
    groupId: `test-${randomUUID()}`,
    bootstrapBrokers: localKafkaBrokers,
  });
  try {
    const offsets = await consumer.listOffsets({ topics: [topic] });
    return (offsets.get(topic) ?? []).reduce((sum, end) => sum + Number(end), 0);
  } finally {
    await consumer.close(true);
  }
}
