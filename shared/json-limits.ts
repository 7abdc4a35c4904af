import { z } from "zod";
import { GatewayError } from "./errors.ts";
import { paramPath } from "./validation.ts";

/** Deepest nesting of objects and arrays a request body may have. */
export const maxJsonDepth = 64;

/** Keys (counted at every level) a free-form record such as `json_schema` may hold. */
export const maxFreeFormKeys = 1_024;

/** Keys a flat string map (`metadata`, a RAG `filter`) may hold. */
export const maxFlatMapKeys = 16;

/** Path segments shown in `param` when a body nests too deeply. */
const shownPathSegments = 8;

interface Frame {
  array: boolean;
  /** Index in an array, the last key read in an object. */
  at: string | number;
}

/** End of the string literal that starts at `start` (its opening quote), or -1 when unterminated. */
function stringEnd(text: string, start: number): number {
  for (let i = start + 1; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x5c) i++;
    else if (ch === 0x22) return i;
  }
  return -1;
}

function keyOf(literal: string): string {
  try {
    const key: unknown = JSON.parse(literal);
    return typeof key === "string" ? key : "";
  } catch {
    return "";
  }
}

/**
 * Where in `text` objects and arrays nest deeper than `maxDepth`, as a `param` path (its first
 * segments), or undefined when they do not. One linear pass over the raw text, so it is safe to run
 * before `JSON.parse` on any input; it does not validate the JSON.
 */
export function excessiveDepthPath(text: string, maxDepth = maxJsonDepth): string | undefined {
  const stack: Frame[] = [];
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (ch === 0x22) {
      const end = stringEnd(text, i);
      if (end < 0) return undefined;
      const top = stack[stack.length - 1];
      if (top && !top.array && expectKey) top.at = keyOf(text.slice(i, end + 1));
      expectKey = false;
      i = end;
    } else if (ch === 0x7b || ch === 0x5b) {
      if (stack.length >= maxDepth) {
        const path = stack.slice(0, shownPathSegments).map((frame) => frame.at);
        return paramPath(path) || "(root)";
      }
      stack.push({ array: ch === 0x5b, at: ch === 0x5b ? 0 : "" });
      expectKey = ch === 0x7b;
    } else if (ch === 0x7d || ch === 0x5d) {
      stack.pop();
      expectKey = false;
    } else if (ch === 0x2c) {
      const top = stack[stack.length - 1];
      if (top?.array && typeof top.at === "number") top.at++;
      expectKey = top !== undefined && !top.array;
    }
  }
  return undefined;
}

/**
 * Parses a request body: 400 `invalid_json` when it is not JSON, 400 with `param` when it nests deeper
 * than `maxDepth` (checked first, so deep input never reaches a recursive parser or serialiser).
 */
export function parseJsonBodyText(text: string, maxDepth = maxJsonDepth): unknown {
  const deep = excessiveDepthPath(text, maxDepth);
  if (deep !== undefined) {
    throw new GatewayError("BAD_REQUEST", `${deep}: JSON nests deeper than ${maxDepth} levels.`, {
      param: deep === "(root)" ? null : deep,
    });
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new GatewayError("INVALID_JSON", "The request body is not valid JSON.");
  }
}

/** Keys in `value` at every level, stopping once past `limit`. Iterative: depth is not a concern. */
export function countKeys(value: unknown, limit: number): number {
  let count = 0;
  const pending: unknown[] = [value];
  while (pending.length > 0 && count <= limit) {
    const item = pending.pop();
    if (Array.isArray(item)) pending.push(...item);
    else if (item !== null && typeof item === "object") {
      const entries = Object.values(item);
      count += entries.length;
      pending.push(...entries);
    }
  }
  return count;
}

/** A free-form JSON object (a JSON Schema, tool parameters) with at most `maxKeys` keys at all levels. */
export function freeFormRecord(maxKeys = maxFreeFormKeys) {
  return z.record(z.string(), z.unknown()).refine((value) => countKeys(value, maxKeys) <= maxKeys, {
    message: `at most ${maxKeys} keys (counted at every level)`,
  });
}

/** A flat string-to-string map (`metadata`, a RAG `filter`) with at most `maxKeys` entries. */
export function flatStringMap(maxKeys = maxFlatMapKeys) {
  return z
    .record(z.string().max(64), z.string().max(512))
    .refine((value) => Object.keys(value).length <= maxKeys, { message: `at most ${maxKeys} keys` });
}
