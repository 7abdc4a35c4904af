import { spawnSync } from "node:child_process";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployLint, runDeployLint } from "../../stack/deploy-lint.ts";
import { localEdgeEnv } from "../../stack/local-env.ts";
import { repoRoot } from "../../stack/paths.ts";
import { spawnDaemon, stopDaemon, waitFor } from "../../stack/process.ts";

const scratch = mkdtempSync(join(tmpdir(), "tiergate-deploy-"));
const k8sFiles = ["config.yaml", "pool.yaml", "ingest.yaml"].map((f) => join(repoRoot, "deploy", "k8s", f));

/** Writes `text` to a scratch file and returns its path. */
function scratchFile(name: string, text: string): string {
  const path = join(scratch, name);
  writeFileSync(path, text);
  return path;
}

function wrangler(args: string[]): { status: number | null; output: string } {
  const run = spawnSync(join(repoRoot, "node_modules", ".bin", "wrangler"), args, {
    cwd: repoRoot,
    env: { ...process.env, WRANGLER_SEND_METRICS: "false", CI: "true" },
    encoding: "utf8",
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

beforeAll(() => {
  deployLint();
}, 600_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe("Kubernetes manifests", () => {
  it("decode strictly into the API types and hang together", () => {
    const result = runDeployLint(["k8s", ...k8sFiles]);
    expect(result.output).toContain("k8s ok: 2 deployments, 1 services, 2 pdbs, 1 hpas, 1 configmaps");
    expect(result.ok).toBe(true);
  });

  it("fail on a misspelt field, and on a PDB that selects nothing", () => {
    const pool = readFileSync(k8sFiles[1] as string, "utf8");
    const typo = scratchFile("typo.yaml", pool.replace("readinessProbe:", "readinesProbe:"));
    const typoRun = runDeployLint(["k8s", typo]);
    expect(typoRun.ok).toBe(false);
    expect(typoRun.output).toContain('unknown field "readinesProbe"');
    // The PDB (third document) selects pods that no deployment has.
    const orphanText = pool
      .split("\n---\n")
      .map((doc) =>
        doc.includes("kind: PodDisruptionBudget")
          ? doc.replace("app.kubernetes.io/name: tiergate-pool", "app.kubernetes.io/name: other")
          : doc,
      )
      .join("\n---\n");
    const orphan = scratchFile("orphan.yaml", orphanText);
    const orphanRun = runDeployLint(["k8s", orphan]);
    expect(orphanRun.ok).toBe(false);
    expect(orphanRun.output).toContain("pdb tiergate-pool selects no deployment's pods");
  });
});

describe("docker-compose.yml", () => {
  const compose = join(repoRoot, "docker-compose.yml");

  it("is a valid Compose file with every profile, app services built from the Dockerfile's targets", () => {
    const result = runDeployLint(["compose", compose]);
    expect(result.output).toContain(
      "compose ok: 10 services [clickhouse edge kafka migrate neon-proxy pool ",
    );
    expect(result.ok).toBe(true);
  });

  it("fails on an unknown key and on a build target the Dockerfile lacks", () => {
    const text = readFileSync(compose, "utf8");
    for (const [bad, expected] of [
      [text.replace('ports: ["127.0.0.1:8080:8080"]', 'portz: ["127.0.0.1:8080:8080"]'), "portz"],
      [text.replace("target: edge }", "target: edgy }"), 'builds target "edgy"'],
    ] as const) {
      const path = join(repoRoot, `.compose-lint-${Date.now()}.yml`);
      writeFileSync(path, bad);
      try {
        const result = runDeployLint(["compose", path]);
        expect(result.ok).toBe(false);
        expect(result.output).toContain(expected);
      } finally {
        rmSync(path, { force: true });
      }
    }
  });
});

describe("Dockerfile", () => {
  const dockerfile = join(repoRoot, "Dockerfile");

  it("parses as BuildKit does, with non-root pool and edge stages and a pool healthcheck", () => {
    const result = runDeployLint(["dockerfile", dockerfile]);
    expect(result.output).toContain("dockerfile ok: stages [deps edge-build pool-deps pool edge]");
    expect(result.ok).toBe(true);
  });

  it("fails when the pool stage would run as root or lose its healthcheck", () => {
    const text = readFileSync(dockerfile, "utf8");
    const root = runDeployLint([
      "dockerfile",
      scratchFile("Dockerfile.root", text.replace("USER tiergate\nEXPOSE 8080", "EXPOSE 8080")),
    ]);
    expect(root.ok).toBe(false);
    expect(root.output).toContain("stage pool runs as root");
    const noHealth = runDeployLint([
      "dockerfile",
      scratchFile("Dockerfile.nohealth", text.replace(/HEALTHCHECK[^\n]*\\\n[^\n]*\n/, "")),
    ]);
    expect(noHealth.ok).toBe(false);
    expect(noHealth.output).toContain("stage pool has no HEALTHCHECK");
  });
});

describe("wrangler environments", () => {
  it.each(["staging", "production"])("%s bundles for deploy with its own vars", (env) => {
    const outdir = join(scratch, `wrangler-${env}`);
    const result = wrangler(["deploy", "--dry-run", "--env", env, "--outdir", outdir]);
    expect(result.status, result.output).toBe(0);
    expect(result.output).toContain("--dry-run: exiting now.");
    expect(result.output).toMatch(/env\.POOL_REGIONS \("[a-z]+=https:\/\//);
    expect(readFileSync(join(outdir, "worker.js"), "utf8").length).toBeGreaterThan(10_000);
  });
});

describe("the edge image's workerd config", () => {
  const port = 18_797;

  afterAll(() => stopDaemon("deploy-edge", 5_000));

  it("serves the deploy bundle with bindings from the environment", async () => {
    const outdir = join(scratch, "edge-image");
    const build = wrangler(["deploy", "--dry-run", "--outdir", outdir]);
    expect(build.status, build.output).toBe(0);
    copyFileSync(join(repoRoot, "deploy", "edge.capnp"), join(outdir, "edge.capnp"));
    const workerd = join(repoRoot, "node_modules", "@cloudflare", "workerd-linux-64", "bin", "workerd");
    spawnDaemon({
      name: "deploy-edge",
      command: workerd,
      args: ["serve", "edge.capnp", "--experimental", "--socket-addr", `http=127.0.0.1:${port}`],
      cwd: outdir,
      env: { ...process.env, ...localEdgeEnv() },
    });
    const url = `http://127.0.0.1:${port}`;
    await waitFor("deploy-edge", async () => (await fetch(`${url}/health`)).ok, 30_000);
    const unauthenticated = await fetch(`${url}/v1/models`);
    expect(unauthenticated.status).toBe(401);
    const body = (await unauthenticated.json()) as { error: { type: string; request_id: string } };
    expect(body.error.type).toBe("authentication_error");
    expect(body.error.request_id).toMatch(/^req_/);
  }, 120_000);
});
