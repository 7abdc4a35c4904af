import { createRoute, z } from "@hono/zod-openapi";
import { jsonContent, plainResponses } from "../../../shared/openapi.ts";
import { jsonBody, signedBodyErrors, signedErrors, signedSecurity, tags } from "./shared.ts";

/** How far a job run's `now` may be from the server's clock. */
const maxNowSkewMs = 24 * 3600 * 1000;

/** End of a job's window (epoch ms), within a day of the server's clock; absent means now. */
export const boundedNow = z
  .number()
  .int()
  .positive()
  .refine(
    (now) => Math.abs(now - Date.now()) <= maxNowSkewMs,
    "must be within 24 hours of the server's clock",
  )
  .optional();

/** Who triggered a run ("cron:…@<time>", "scheduler", "manual"); part of the lease holder. */
export const runTrigger = z.string().min(1).max(128).optional();

const anyObject = z.record(z.string(), z.unknown());

/** A signed admin POST that runs a job under its lease and answers its report. */
export function adminJobRoute<B extends z.ZodType>(options: { path: string; summary: string; body: B }) {
  return createRoute({
    method: "post",
    path: options.path,
    summary: options.summary,
    tags: tags.admin,
    security: signedSecurity,
    middleware: jsonBody,
    request: { body: { required: true, content: jsonContent(options.body) } },
    responses: plainResponses({
      200: { description: "The run's report, or `{ran:false, skipped}`", content: jsonContent(anyObject) },
      ...signedBodyErrors,
    }),
  });
}

/** A signed admin GET answering a JSON object. */
export function adminReadRoute(options: { path: string; summary: string }) {
  return createRoute({
    method: "get",
    path: options.path,
    summary: options.summary,
    tags: tags.admin,
    security: signedSecurity,
    responses: plainResponses({
      200: { description: "OK", content: jsonContent(anyObject) },
      ...signedErrors,
    }),
  });
}
