import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { kafkaBrokerIds } from "../kafka/metadata-probe.ts";
import { dataDir, repoRoot, serviceDataDir, stackDir } from "../paths.ts";
import { host, ports } from "../ports.ts";
import {
  aptInstall,
  hasCommand,
  isAlive,
  MissingPieceError,
  readPid,
  run,
  spawnDaemon,
  stopDaemon,
  tcpOpen,
  waitFor,
} from "../process.ts";
import type { StackService } from "../service.ts";

const name = "kafka";
const kafkaDir = join(repoRoot, "test", "stack", "kafka");
const pom = join(kafkaDir, "pom.xml");
const serverTemplate = join(kafkaDir, "server.properties.template");
const log4jConfig = join(kafkaDir, "log4j2.properties");
/** Broker jars gathered by Maven from pom.xml. */
const libsDir = join(stackDir, "kafka", "libs");
/** Holds the sha256 of the pom the jars came from; a changed pom re-gathers them. */
const libsMarker = join(libsDir, ".pom-sha256");
const classpath = `${libsDir}/*`;
const jvmOptions = [
  "-Xms128m",
  "-Xmx512m",
  "-XX:+UseG1GC",
  "-XX:MaxGCPauseMillis=20",
  "-Djava.awt.headless=true",
];
/** A clean stop runs a controlled shutdown; Kafka takes a few seconds for it. */
const stopGraceMs = 30_000;

/** `host:port` list for Kafka clients of the local stack. */
export const localKafkaBrokers = [`${host}:${ports.kafka}`];

const kafkaData = (): string => join(dataDir, name);
const serverProperties = (): string => join(kafkaData(), "server.properties");
const clusterIdFile = (): string => join(kafkaData(), "cluster-id");
const metadataDir = (): string => join(kafkaData(), "metadata");

function pomHash(): string {
  return createHash("sha256").update(readFileSync(pom)).digest("hex");
}

function libsPresent(): boolean {
  if (!existsSync(libsMarker) || readFileSync(libsMarker, "utf8").trim() !== pomHash()) return false;
  return readdirSync(libsDir).some((f) => /^kafka_2\.13-.*\.jar$/.test(f));
}

async function gatherJars(): Promise<void> {
  rmSync(libsDir, { recursive: true, force: true });
  mkdirSync(libsDir, { recursive: true });
  await run("mvn", [
    "-q",
    "-B",
    `-Dmaven.repo.local=${join(homedir(), ".m2", "repository")}`,
    "-f",
    pom,
    "dependency:copy-dependencies",
    `-DoutputDirectory=${libsDir}`,
  ]);
  writeFileSync(libsMarker, pomHash());
}

/** A Kafka cluster id: 16 random bytes, URL-safe base64 without padding, not starting with '-'. */
export function newClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

function writeServerProperties(): void {
  const values: Record<string, string> = {
    host,
    port: String(ports.kafka),
    controllerPort: String(ports.kafkaController),
    logDirs: join(kafkaData(), "logs"),
    metadataDir: metadataDir(),
  };
  const text = readFileSync(serverTemplate, "utf8").replace(/\{\{(\w+)\}\}/g, (match, key: string) => {
    const value = values[key];
    if (value === undefined) throw new Error(`kafka: unknown placeholder ${match} in ${serverTemplate}`);
    return value;
  });
  writeFileSync(serverProperties(), text);
}

/** `java` arguments that run `mainClass` of the stack's Kafka jars with `jvm` options and our log config. */
export function kafkaJavaArgs(
  mainClass: string,
  args: string[],
  jvm: readonly string[] = jvmOptions,
): string[] {
  return [...jvm, "-cp", classpath, `-Dlog4j2.configurationFile=${log4jConfig}`, mainClass, ...args];
}

/** Formats the KRaft storage once; the cluster id is kept so a re-format cannot split the data. */
async function formatStorageOnce(): Promise<void> {
  if (existsSync(join(metadataDir(), "meta.properties"))) return;
  if (!existsSync(clusterIdFile())) writeFileSync(clusterIdFile(), newClusterId());
  const clusterId = readFileSync(clusterIdFile(), "utf8").trim();
  await run(
    "java",
    kafkaJavaArgs("kafka.tools.StorageTool", [
      "format",
      "--ignore-formatted",
      "-t",
      clusterId,
      "-c",
      serverProperties(),
    ]),
  );
}

async function brokerAnswers(): Promise<boolean> {
  const ids = await kafkaBrokerIds(host, ports.kafka).catch(() => []);
  return ids.length > 0;
}

export const kafkaService: StackService = {
  name,
  url: `kafka://${host}:${ports.kafka}`,

  async install() {
    if (!(await hasCommand("java")) || !(await hasCommand("mvn"))) {
      await aptInstall("Java 17 and Maven", ["openjdk-17-jre-headless", "maven"]);
    }
    if (!(await hasCommand("java")) || !(await hasCommand("mvn"))) {
      throw new MissingPieceError("Java 17 and Maven", "Install a Java 17 runtime and Apache Maven.");
    }
    if (!libsPresent()) await gatherJars();
  },

  async start() {
    if (await this.healthy()) return;
    if (!isAlive(readPid(name))) {
      if (await tcpOpen(ports.kafka)) {
        throw new Error(
          `port ${ports.kafka} is held by something other than tiergate's kafka; set TIERGATE_KAFKA_PORT`,
        );
      }
      serviceDataDir(name);
      writeServerProperties();
      await formatStorageOnce();
      spawnDaemon({
        name,
        command: "java",
        args: kafkaJavaArgs("kafka.Kafka", [serverProperties()]),
      });
    }
    await waitFor(name, brokerAnswers, 90_000, 200);
  },

  async stop() {
    await stopDaemon(name, stopGraceMs);
  },

  healthy: brokerAnswers,

  async reset() {
    rmSync(kafkaData(), { recursive: true, force: true });
  },
};
