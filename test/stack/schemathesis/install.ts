import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { stackDir } from "../paths.ts";
import { hasCommand, MissingPieceError, run } from "../process.ts";

/** The pinned schemathesis release (PyPI), installed into its own virtualenv under the stack dir. */
export const schemathesisVersion = "4.32.5";

/** The virtualenv holding schemathesis; its version is in the name, so a new pin gets a fresh one. */
export const schemathesisVenv = join(stackDir, "venvs", `schemathesis-${schemathesisVersion}`);

/** This directory: `hooks.py` (the OpenAI error-shape check and request bounds) lives here. */
export const schemathesisHooksDir = dirname(fileURLToPath(import.meta.url));

/**
 * Makes sure `st` (schemathesis's CLI) is installed at the pinned version and returns its path. Creates
 * the virtualenv with `python3 -m venv` and installs with pip from PyPI on first use; later runs are
 * offline. Names the missing piece when Python's venv module is not there.
 */
export async function ensureSchemathesis(): Promise<string> {
  const st = join(schemathesisVenv, "bin", "st");
  if (existsSync(st)) {
    const version = await run(st, ["--version"]).catch(() => "");
    if (version.includes(schemathesisVersion)) return st;
  }
  if (!(await hasCommand("python3"))) {
    throw new MissingPieceError("python3", "Install Python 3 with venv and pip (Debian: python3-venv).");
  }
  await run("python3", ["-m", "venv", "--clear", schemathesisVenv]).catch((error: unknown) => {
    throw new MissingPieceError(
      "python3 venv",
      `Install Python's venv module (Debian: python3-venv): ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const pip = join(schemathesisVenv, "bin", "pip");
  await run(pip, [
    "install",
    "--quiet",
    "--disable-pip-version-check",
    `schemathesis==${schemathesisVersion}`,
  ]);
  return st;
}
