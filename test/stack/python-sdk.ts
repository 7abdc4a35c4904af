import { existsSync } from "node:fs";
import { join } from "node:path";
import { stackDir } from "./paths.ts";
import { hasCommand, MissingPieceError, run } from "./process.ts";

/** The Python `openai` SDK the README's Python example uses, pinned. */
export const pythonOpenAIRequirement = "openai==3.51.0";

const venvDir = join(stackDir, "python-sdk");
const python = join(venvDir, "bin", "python");

async function hasSdk(): Promise<boolean> {
  if (!existsSync(python)) return false;
  const version = await run(python, ["-c", "import openai; print(openai.__version__)"]).catch(() => "");
  return `openai==${version.trim()}` === pythonOpenAIRequirement;
}

/**
 * A Python with the `openai` SDK, in a virtualenv under the stack dir (installed from PyPI with pip
 * on first use, kept across `reset`). Returns the interpreter's path.
 */
export async function ensurePythonOpenAI(): Promise<string> {
  if (await hasSdk()) return python;
  if (!(await hasCommand("python3"))) {
    throw new MissingPieceError("python3", "Install Python 3 with venv and pip (Debian: python3-venv).");
  }
  await run("python3", ["-m", "venv", "--clear", venvDir]);
  await run(python, [
    "-m",
    "pip",
    "install",
    "--quiet",
    "--disable-pip-version-check",
    pythonOpenAIRequirement,
  ]);
  if (!(await hasSdk())) throw new Error(`pip did not install ${pythonOpenAIRequirement} into ${venvDir}`);
  return python;
}
