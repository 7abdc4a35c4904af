/**
 * The local stack writes its settings to `<stack dir>/local-env.json` when it comes up. The Deno entry
 * fills the bindings the environment leaves unset from it, so `npm run dev:edge:deno` needs no
 * environment on a checkout whose stack is up. Without that file (production) nothing changes.
 */

/** Where the local stack's settings are: `$TIERGATE_STACK_DIR/local-env.json`, else `.stack/` of the checkout. */
export function localStackEnvPath(env: Record<string, string>, checkoutRoot: URL): string {
  const stackDir = env.TIERGATE_STACK_DIR || decodeURIComponent(new URL(".stack", checkoutRoot).pathname);
  return `${stackDir.replace(/\/$/, "")}/local-env.json`;
}

/** The string values of the file's JSON object; none when it is missing or unreadable. */
export function parseLocalStackEnv(text: string | undefined): Record<string, string> {
  if (text === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return {};
  }
  if (typeof json !== "object" || json === null) return {};
  return Object.fromEntries(
    Object.entries(json).filter((entry): entry is [string, string] => typeof entry[1] === "string"),
  );
}

/** `env` with unset (or empty) variables taken from the local stack's settings; a set variable wins. */
export function withLocalStackDefaults(
  env: Record<string, string>,
  local: Record<string, string>,
): Record<string, string> {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ""));
  return { ...local, ...set };
}
