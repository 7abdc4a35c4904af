import type { z } from "zod";
import { GatewayError } from "./errors.ts";

/** `messages[0].content` style path, as OpenAI reports `param`. */
export function paramPath(path: readonly PropertyKey[]): string {
  let out = "";
  for (const key of path) {
    if (typeof key === "number") out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out;
}

/** The 400 for a zod failure: its first issue, with `param` naming the offending field. */
export function badRequestOf(error: z.ZodError): GatewayError {
  const issue = error.issues[0];
  if (!issue) return new GatewayError("BAD_REQUEST", "invalid request");
  if (issue.code === "unrecognized_keys") {
    const key = issue.keys[0] ?? "";
    const param = paramPath([...issue.path, key]);
    return new GatewayError("BAD_REQUEST", `Unrecognized request argument supplied: ${param}`, { param });
  }
  const param = paramPath(issue.path);
  return new GatewayError("BAD_REQUEST", param ? `${param}: ${issue.message}` : issue.message, {
    param: param || null,
  });
}

/** Parses with zod; the first issue becomes a 400 GatewayError whose `param` names the offending field. */
export function parseOrThrow<S extends z.ZodType>(schema: S, input: unknown): z.infer<S> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw badRequestOf(result.error);
}

/**
 * The one `defaultHook` of every OpenAPIHono app: a request that fails its route's zod schemas is
 * answered by `onError` with the same 400 `parseOrThrow` throws.
 */
export function validationHook(result: { success: true } | { success: false; error: z.ZodError }): void {
  if (!result.success) throw badRequestOf(result.error);
}

/**
 * `schema`, validated synchronously when a route validator asks for `safeParseAsync` (Hono's zod
 * validator always does). zod compiles an object schema to one generated function only on synchronous
 * parses; an async parse walks it field by field, about 10× the CPU for a chat request in Bun. Only for
 * schemas without async refinements or transforms (a sync parse of those throws).
 */
export function parsedSynchronously<S extends z.ZodType>(schema: S): S {
  Object.defineProperty(schema, "safeParseAsync", {
    value: async (data: unknown, params?: z.core.ParseContext<z.core.$ZodIssue>) =>
      schema.safeParse(data, params),
  });
  return schema;
}
