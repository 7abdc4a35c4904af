import { z } from "zod";

// Helpers for the zod schemas that validate the environment of the edge and the pool. Environment values
// are always strings, so numbers are coerced.

/** A positive integer variable, `fallback` when unset. */
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);

/** A non-negative integer variable (0 allowed, typically "off"), `fallback` when unset. */
export const nonNegativeInt = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);

/** `LOG_LEVEL`: the lowest level the logger writes (debug, info, warn, error); `info` when unset. */
export const logLevel = () => z.enum(["debug", "info", "warn", "error"]).default("info");

/** One `path: message` line per problem of a failed parse, for the operator. */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((issue) => `${issue.path.join(".")}: ${issue.message}`);
}
