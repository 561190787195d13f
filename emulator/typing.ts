/**
 * ThingsBoard's typing of telemetry and attribute JSON (`JsonConverter`):
 * booleans, LONG/DOUBLE numbers, numeric strings cast to numbers, objects and
 * arrays as JSON, `null` skipped; and Gson's output of typed values.
 *
 * @module
 */

import { asString, type JNode, JsonSyntaxError, quote, stringify, toJs } from "./_json.ts";
import type { JsonValue, KvType, KvValue } from "./types.ts";

/** A typed value as stored: `text` is its JSON output (Gson form). */
export interface TypedValue {
  type: KvType;
  value: KvValue;
  text: string;
}

/** A group of values that share a timestamp. */
export interface TsGroup {
  ts: number;
  values: Map<string, TypedValue>;
}

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** `NumberUtils.isParsable` of commons-lang3: optional `-`, digits and at most one `.`, not ending in `.`. */
export function isParsable(s: string): boolean {
  return /^-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)$/.test(s) && !s.endsWith(".") && s !== "-";
}

/** Splits a decimal literal into unscaled digits and scale, like `new BigDecimal(text)`. */
function toBigDecimal(text: string): { unscaled: bigint; scale: number } {
  const m = /^([+-]?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m || (m[2] === "" && (m[3] ?? "") === "")) {
    throw new JsonSyntaxError(`Can't parse value: ${text}`);
  }
  const frac = m[3] ?? "";
  const unscaled = BigInt((m[1] === "-" ? "-" : "") + ((m[2] ?? "") + frac || "0"));
  return { unscaled, scale: frac.length - Number(m[4] ?? "0") };
}

/** `BigDecimal.toPlainString()`. */
function toPlainString(unscaled: bigint, scale: number): string {
  const neg = unscaled < 0n;
  let digits = (neg ? -unscaled : unscaled).toString();
  if (scale <= 0) return (neg ? "-" : "") + digits + "0".repeat(-scale);
  if (digits.length <= scale) digits = "0".repeat(scale - digits.length + 1) + digits;
  return (neg ? "-" : "") + digits.slice(0, digits.length - scale) + "." + digits.slice(-scale);
}

/** `JsonConverter.buildNumericKeyValueProto`: LONG, DOUBLE, or STRING for out-of-range values. */
export function typeNumber(text: string): TypedValue {
  const { unscaled, scale } = toBigDecimal(text);
  // BigDecimal.stripTrailingZeros().scale()
  let u = unscaled;
  let stripped = scale;
  if (u === 0n) stripped = 0;
  else {
    while (u % 10n === 0n) {
      u /= 10n;
      stripped--;
    }
  }
  const simpleDouble = text.includes(".") && !/[eE]/.test(text);
  if (stripped <= 0 && !simpleDouble) {
    if (-stripped <= 19) {
      const value = u * 10n ** BigInt(-stripped);
      if (value >= LONG_MIN && value <= LONG_MAX) return longValue(value);
    }
    return stringValue(-scale > 1000 ? text : toPlainString(unscaled, scale));
  }
  if (scale <= 16) return doubleValue(Number(text));
  return stringValue(scale > 1000 ? text : toPlainString(unscaled, scale));
}

/** A STRING value. */
export function stringValue(s: string): TypedValue {
  return { type: "STRING", value: s, text: quote(s) };
}

/** A LONG value; outside the safe integer range the value is a bigint. */
export function longValue(v: bigint): TypedValue {
  const n = Number(v);
  return { type: "LONG", value: Number.isSafeInteger(n) ? n : v, text: v.toString() };
}

/** A DOUBLE value, written as Java's `Double.toString`. */
function doubleValue(d: number): TypedValue {
  return { type: "DOUBLE", value: d, text: javaDouble(d) };
}

/** Java's `Double.toString(d)` (shortest digits). */
export function javaDouble(d: number): string {
  if (Number.isNaN(d)) return "NaN";
  if (!Number.isFinite(d)) return d > 0 ? "Infinity" : "-Infinity";
  if (d === 0) return Object.is(d, -0) ? "-0.0" : "0.0";
  const abs = Math.abs(d);
  if (abs >= 1e-3 && abs < 1e7) {
    const plain = String(abs);
    return (d < 0 ? "-" : "") + (plain.includes(".") ? plain : plain + ".0");
  }
  const [mant, exp] = abs.toExponential().split("e") as [string, string];
  const m = mant.includes(".") ? mant : mant + ".0";
  return (d < 0 ? "-" : "") + m + "E" + String(Number(exp));
}

/** Types one JSON value; `undefined` for null (skipped). */
export function typeValue(node: JNode): TypedValue | undefined {
  switch (node.t) {
    case "null":
      return undefined;
    case "bool":
      return { type: "BOOLEAN", value: node.v, text: node.v ? "true" : "false" };
    case "num":
      return typeNumber(node.v);
    case "str":
      if (isParsable(node.v)) {
        try {
          return typeNumber(node.v);
        } catch {
          // fall through to STRING, as ThingsBoard does
        }
      }
      return stringValue(node.v);
    default:
      return { type: "JSON", value: toJs(node) as JsonValue, text: stringify(node) };
  }
}

/** `parseProtoValues`: every non-null key of an object, typed. */
export function typeObject(node: JNode): Map<string, TypedValue> {
  if (node.t !== "obj") throw new JsonSyntaxError(`Can't parse value: ${stringify(node)}`);
  const out = new Map<string, TypedValue>();
  for (const [k, v] of node.v) {
    const typed = typeValue(v);
    if (typed) out.set(k, typed);
  }
  return out;
}

/** Gson's `getAsLong()` of a `ts`. */
function asLong(node: JNode): number {
  const s = asString(node);
  if (s === undefined || node.t === "arr") throw new JsonSyntaxError("Can't parse ts");
  if (/^[+-]?[0-9]+$/.test(s)) return Number(s);
  const n = Number(s);
  if (!Number.isFinite(n)) throw new JsonSyntaxError(`Can't parse ts: ${s}`);
  return Math.trunc(n);
}

/**
 * `JsonConverter.convertToTelemetry`: an object or an array of objects; each
 * object with both `ts` and `values` carries its own time, others get `now`.
 *
 * @throws {JsonSyntaxError} for any other shape.
 */
export function parseTelemetry(node: JNode, now: number): TsGroup[] {
  const objects = node.t === "arr" ? node.v : [node];
  if (node.t !== "arr" && node.t !== "obj") {
    throw new JsonSyntaxError(`Can't parse value: ${stringify(node)}`);
  }
  return objects.map((o) => {
    if (o.t !== "obj") throw new JsonSyntaxError(`Can't parse value: ${stringify(o)}`);
    const ts = o.v.get("ts");
    const values = o.v.get("values");
    if (ts !== undefined && values !== undefined) {
      if (values.t !== "obj") throw new JsonSyntaxError("values is not an object");
      return { ts: asLong(ts), values: typeObject(values) };
    }
    return { ts: now, values: typeObject(o) };
  });
}

/** `JsonConverter.convertToAttributesProto`: an object only. */
export function parseAttributes(node: JNode): Map<string, TypedValue> {
  return typeObject(node);
}

/** Writes `{"k":v,...}` from typed values in order. */
export function writeObject(values: Iterable<[string, { text: string }]>): string {
  const parts: string[] = [];
  for (const [k, v] of values) parts.push(quote(k) + ":" + v.text);
  return "{" + parts.join(",") + "}";
}
