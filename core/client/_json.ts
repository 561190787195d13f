/**
 * The shape check shared by the parsers of ThingsBoard's messages.
 *
 * @module
 */

import type { JsonObject } from "../payload.ts";

/**
 * Whether a parsed JSON value is an object (not `null`, not an array).
 *
 * @param value A value from `JSON.parse`.
 * @returns `true` for an object.
 */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
