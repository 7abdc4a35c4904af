import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { dataDir } from "../paths.ts";
import { host } from "../ports.ts";
import { isAlive, readPid, run, signalGroup, sleep, spawnDaemon, stopDaemon, waitFor } from "../process.ts";
import { kafkaJavaArgs, newClusterId } from "../services/kafka.ts";
import { kafkaBrokerIds } from "./metadata-probe.ts";

/** One broker of a local multi-broker cluster. */
export interface ClusterBroker {
  name: string;
  nodeId: number;
  port: number;
}

/** Options of {@link startKafkaCluster}. */
export interface KafkaClusterOptions {
  /** Brokers (each also a KRaft controller). Default 3. */
  size?: number;
  /** Client port of broker 1; broker i listens on basePort + i - 1, its controller on basePort + 100 + i - 1. */
  basePort: number;
}

/** A started cluster: its brokers, the bootstrap list, and a way to stop one broker or all. */
export interface KafkaCluster {
  brokers: ClusterBroker[];
  bootstrap: string[];
  /** Kills one broker at once (SIGKILL), as a crash would. */
  kill(nodeId: number): Promise<void>;
  stop(): Promise<void>;
}

const jvmOptions = ["-Xms64m", "-Xmx256m", "-XX:+UseSerialGC", "-Djava.awt.headless=true"];

function brokerProperties(options: {
  nodeId: number;
  port: number;
  controllerPort: number;
  voters: string;
  dir: string;
}): string {
  return `process.roles=broker,controller
node.id=${options.nodeId}
controller.quorum.voters=${options.voters}
controller.listener.names=CONTROLLER
listeners=PLAINTEXT://${host}:${options.port},CONTROLLER://${host}:${options.controllerPort}
advertised.listeners=PLAINTEXT://${host}:${options.port}
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT
log.dirs=${join(options.dir, "logs")}
metadata.log.dir=${join(options.dir, "metadata")}
offsets.topic.replication.factor=3
offsets.topic.num.partitions=6
transaction.state.log.replication.factor=3
transaction.state.log.min.isr=2
default.replication.factor=3
min.insync.replicas=2
auto.create.topics.enable=false
group.initial.rebalance.delay.ms=0
# A killed broker is fenced and its partitions get new leaders within a few seconds (default 9 s).
broker.session.timeout.ms=3000
broker.heartbeat.interval.ms=500
num.network.threads=1
num.io.threads=2
num.recovery.threads.per.data.dir=1
`;
}

/**
 * Starts a KRaft cluster of `size` brokers (default 3, each also a controller) from the stack's Kafka
 * jars, on fresh storage under `.stack/data/kafka-cluster/`. Internal topics have three replicas and
 * `min.insync.replicas=2`, so the cluster keeps serving acks=all producers with one broker down. For
 * tests that need a rebalance or a broker failure; the default stack keeps one broker.
 */
export async function startKafkaCluster(options: KafkaClusterOptions): Promise<KafkaCluster> {
  const size = options.size ?? 3;
  const root = join(dataDir, "kafka-cluster");
  rmSync(root, { recursive: true, force: true });
  const clusterId = newClusterId();
  const brokers = Array.from({ length: size }, (_, i) => ({
    name: `kafka-cluster-${i + 1}`,
    nodeId: i + 1,
    port: options.basePort + i,
    controllerPort: options.basePort + 100 + i,
  }));
  const voters = brokers.map((b) => `${b.nodeId}@${host}:${b.controllerPort}`).join(",");
  await Promise.all(
    brokers.map(async (broker) => {
      const dir = join(root, `node-${broker.nodeId}`);
      mkdirSync(dir, { recursive: true });
      const properties = join(dir, "server.properties");
      writeFileSync(properties, brokerProperties({ ...broker, voters, dir }));
      await run(
        "java",
        kafkaJavaArgs("kafka.tools.StorageTool", ["format", "-t", clusterId, "-c", properties], jvmOptions),
      );
    }),
  );
  for (const broker of brokers) {
    await stopDaemon(broker.name, 5_000);
    spawnDaemon({
      name: broker.name,
      command: "java",
      args: kafkaJavaArgs(
        "kafka.Kafka",
        [join(root, `node-${broker.nodeId}`, "server.properties")],
        jvmOptions,
      ),
    });
  }
  for (const broker of brokers) {
    await waitFor(
      broker.name,
      async () => (await kafkaBrokerIds(host, broker.port)).length === size,
      120_000,
      250,
    );
  }
  return {
    brokers: brokers.map(({ name, nodeId, port }) => ({ name, nodeId, port })),
    bootstrap: brokers.map((b) => `${host}:${b.port}`),
    kill: async (nodeId) => {
      const pid = readPid(`kafka-cluster-${nodeId}`);
      if (pid === undefined) return;
      signalGroup(pid, "SIGKILL");
      while (isAlive(pid)) await sleep(20);
    },
    stop: async () => {
      await Promise.all(brokers.map((b) => stopDaemon(b.name, 20_000)));
    },
  };
}
