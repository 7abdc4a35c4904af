import { Admin } from "@platformatic/kafka";
import { topics } from "../../shared/events.ts";
import { toKafkaError } from "./kafka-client.ts";

export interface TopicSpec {
  name: string;
  partitions: number;
  configs: Record<string, string>;
}

const day = 24 * 60 * 60 * 1000;

/**
 * tiergate's topics. Request events are keyed by tenant, so 6 partitions let up to 6 ingest consumers
 * share the load while each tenant's events stay in order. Retention is a replay window for ingest,
 * not the system of record (ClickHouse is).
 */
export const topicSpecs: readonly TopicSpec[] = [
  {
    name: topics.requestEvents,
    partitions: 6,
    configs: { "retention.ms": String(7 * day), "compression.type": "producer" },
  },
  { name: topics.feedback, partitions: 3, configs: { "retention.ms": String(30 * day) } },
  { name: topics.documentChanges, partitions: 3, configs: { "retention.ms": String(30 * day) } },
  { name: topics.deadLetter, partitions: 3, configs: { "retention.ms": String(30 * day) } },
];

/**
 * Creates the missing topics of `specs` (default: all of tiergate's) and grows the partition count of
 * existing ones that have fewer than specified. Idempotent; safe to run from several places at once.
 * Throws DependencyError("kafka", …).
 */
export async function ensureTopics(
  brokers: string[],
  specs: readonly TopicSpec[] = topicSpecs,
  replicas = 1,
): Promise<void> {
  const admin = new Admin({
    clientId: "tiergate-topics",
    bootstrapBrokers: brokers,
    retries: 3,
    retryDelay: 250,
  });
  try {
    const existing = new Set(await admin.listTopics());
    for (const spec of specs) {
      if (!existing.has(spec.name)) {
        await admin
          .createTopics({
            topics: [spec.name],
            partitions: spec.partitions,
            replicas,
            configs: Object.entries(spec.configs).map(([name, value]) => ({ name, value })),
          })
          .catch((error: unknown) => {
            // Another process created it between our list and create.
            if (!/already exists/i.test(String(error instanceof Error ? collectMessages(error) : error)))
              throw error;
          });
        continue;
      }
      const metadata = await admin.metadata({ topics: [spec.name] });
      const current = metadata.topics.get(spec.name)?.partitionsCount ?? 0;
      if (current < spec.partitions) {
        await admin.createPartitions({
          topics: [{ name: spec.name, count: spec.partitions, assignments: [] }],
        });
      }
    }
  } catch (error: unknown) {
    throw toKafkaError("ensuring topics", error);
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function collectMessages(error: Error): string {
  const nested = error instanceof AggregateError ? error.errors : [];
  return [
    error.message,
    ...nested.map((e: unknown) => (e instanceof Error ? collectMessages(e) : String(e))),
  ].join("; ");
}
