/**
 * The LiteLLM proxy as a peer for `bench:edge`: installed from PyPI (`litellm[proxy]`, pinned) into a
 * virtualenv under `.stack/litellm-venv` on first use, then started with one worker on loopback, with
 * a config written to `.stack`: a random master key, no database and no spend logs, and one
 * `openai/`-prefixed model whose `api_base` is the bench's instant upstream.
 */

import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureStackDirs, stackDir } from "../stack/paths.ts";
import {
  aptInstall,
  hasCommand,
  MissingPieceError,
  run,
  spawnDaemon,
  stopDaemon,
  waitFor,
} from "../stack/process.ts";

/**
 * The pinned LiteLLM release; bump it here (the venv is rebuilt when the marker differs). Later releases'
 * `[proxy]` extra pinned `litellm-proxy`, `litellm-proxy-extras` or `litellm-enterprise` releases PyPI
 * did not serve yet; this is the newest that pip resolves (`pip install --dry-run 'litellm[proxy]'`).
 */
export const litellmVersion = "1.108.7";

const venvDir = join(stackDir, "litellm-venv");
const marker = join(venvDir, ".tiergate-litellm-version");
const litellmBinary = join(venvDir, "bin", "litellm");

/** Creates the virtualenv, adding Debian's `python3-venv` when the interpreter lacks `ensurepip`. */
async function createVenv(): Promise<void> {
  if (!(await hasCommand("python3"))) {
    throw new MissingPieceError(
      "python3",
      "Install Python 3.9+ with its venv module to run the LiteLLM peer.",
    );
  }
  rmSync(venvDir, { recursive: true, force: true });
  try {
    await run("python3", ["-m", "venv", venvDir]);
  } catch {
    rmSync(venvDir, { recursive: true, force: true });
    await aptInstall("python3 venv", ["python3-venv"]);
    await run("python3", ["-m", "venv", venvDir]);
  }
}

/**
 * Installs `litellm[proxy]==litellmVersion` into `.stack/litellm-venv` unless the marker file says that
 * version is already there; returns the path of its `litellm` command.
 */
export async function ensureLitellm(): Promise<string> {
  const installed = existsSync(marker) ? readFileSync(marker, "utf8").trim() : "";
  if (installed === litellmVersion && existsSync(litellmBinary)) return litellmBinary;
  ensureStackDirs();
  process.stdout.write(`installing litellm[proxy]==${litellmVersion} into ${venvDir} (first run only) …\n`);
  await createVenv();
  const pip = join(venvDir, "bin", "pip");
  await run(pip, [
    "install",
    "--quiet",
    "--disable-pip-version-check",
    "--no-input",
    `litellm[proxy]==${litellmVersion}`,
  ]);
  writeFileSync(marker, `${litellmVersion}\n`);
  return litellmBinary;
}

export interface LitellmOptions {
  /** Daemon name (log in `.stack/logs/<name>.log`). */
  name: string;
  port: number;
  /** The upstream's OpenAI base, ending in `/v1`. */
  apiBase: string;
  /** The model name clients send; mapped to `openai/<model>` at `apiBase`. */
  model: string;
  /** Turn on LiteLLM's response cache (in-process, `type: local`). */
  cache: boolean;
}

export interface RunningLitellm {
  url: string;
  /** The master key, for `Authorization: Bearer`. */
  key: string;
  stop: () => Promise<void>;
}

/** The proxy config (JSON is YAML, so no YAML writer is needed). */
function litellmConfig(options: LitellmOptions, masterKey: string): Record<string, unknown> {
  return {
    model_list: [
      {
        model_name: options.model,
        litellm_params: { model: `openai/${options.model}`, api_base: options.apiBase, api_key: "bench" },
      },
    ],
    litellm_settings: {
      set_verbose: false,
      request_timeout: 600,
      ...(options.cache ? { cache: true, cache_params: { type: "local" } } : {}),
    },
    general_settings: {
      master_key: masterKey,
      disable_spend_logs: true,
      disable_error_logs: true,
    },
  };
}

async function liveness(url: string): Promise<boolean> {
  const response = await fetch(`${url}/health/liveliness`, { signal: AbortSignal.timeout(2_000) });
  await response.arrayBuffer();
  return response.ok;
}

/** Installs (once) and starts the LiteLLM proxy with one worker on 127.0.0.1; resolves when it is live. */
export async function startLitellm(options: LitellmOptions): Promise<RunningLitellm> {
  const binary = await ensureLitellm();
  await stopDaemon(options.name, 5_000);
  const masterKey = `sk-${randomBytes(24).toString("hex")}`;
  const configFile = join(stackDir, `${options.name}.yaml`);
  writeFileSync(configFile, JSON.stringify(litellmConfig(options, masterKey), null, 2), { mode: 0o600 });
  spawnDaemon({
    name: options.name,
    command: binary,
    args: [
      "--config",
      configFile,
      "--host",
      "127.0.0.1",
      "--port",
      String(options.port),
      "--num_workers",
      "1",
    ],
    env: {
      // The remote price map cannot be fetched offline; the bundled copy is what it falls back to.
      LITELLM_LOCAL_MODEL_COST_MAP: "True",
      LITELLM_LOG: "ERROR",
      LITELLM_MODE: "PRODUCTION",
    },
    cwd: stackDir,
  });
  const url = `http://127.0.0.1:${options.port}`;
  await waitFor(options.name, () => liveness(url), 180_000, 500);
  return { url, key: masterKey, stop: () => stopDaemon(options.name, 10_000) };
}
