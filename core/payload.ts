/**
 * Validation and serialization of what the device sends to ThingsBoard:
 * telemetry, client attributes and JSON values (RPC params and replies).
 *
 * Every value is checked before anything is sent: `NaN`, `±Infinity`,
 * `undefined`, functions, symbols, `bigint`s, cycles and containers JSON
 * cannot represent (`Map`, `Set`, typed arrays, …) are refused with an
 * {@linkcode InvalidPayloadError} naming the key path. Serialization goes
 * through one replaceable {@linkcode PayloadSerializer} so a faster engine can
 * be swapped in.
 *
 * @module
 */

import { InvalidPayloadError } from "./errors.ts";

/**
 * A JSON value as ThingsBoard stores it.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@tbwasm/sdk";
 * const v: JsonValue = { on: true, levels: [1, 2, 3], name: null };
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * A JSON object (keys to JSON values).
 *
 * @example
 * ```ts
 * import type { JsonObject } from "@tbwasm/sdk";
 * const o: JsonObject = { temperature: 21.5 };
 * ```
 */
export type JsonObject = { [key: string]: JsonValue };

/**
 * Key/value pairs of telemetry or attributes: any plain object, including
 * values typed by an `interface`. That the values are JSON values (no `NaN`,
 * `undefined`, functions, …) is checked at run time.
 *
 * @example
 * ```ts
 * import type { KeyValues } from "@tbwasm/sdk";
 * interface Reading { temperature: number; door: "open" | "closed" }
 * const kv: KeyValues = { temperature: 21.5, door: "open" } satisfies Reading;
 * ```
 */
export type KeyValues = object;

/**
 * Telemetry with an explicit timestamp (milliseconds since the Unix epoch).
 *
 * @example
 * ```ts
 * import type { TimeseriesEntry } from "@tbwasm/sdk";
 * const e: TimeseriesEntry = { ts: 1_700_000_000_000, values: { temperature: 21.5 } };
 * ```
 */
export interface TimeseriesEntry {
  /** Timestamp in milliseconds since the Unix epoch. */
  readonly ts: number;
  /** The values recorded at `ts`. */
  readonly values: KeyValues;
}

/**
 * Every telemetry shape ThingsBoard accepts: an object (server time), a
 * `{ ts, values }` entry, or an array mixing both.
 *
 * @example
 * ```ts
 * import type { Telemetry } from "@tbwasm/sdk";
 * const t: Telemetry = [{ temperature: 21 }, { ts: 1_700_000_000_000, values: { temperature: 20 } }];
 * ```
 */
export type Telemetry = KeyValues | TimeseriesEntry | ReadonlyArray<KeyValues | TimeseriesEntry>;

/**
 * Turns an already validated value into the bytes of its JSON text. The
 * default is {@linkcode jsonSerializer}; the wasm engine supplies its own.
 *
 * @example
 * ```ts
 * import type { PayloadSerializer } from "@tbwasm/sdk";
 * const serializer: PayloadSerializer = (v) => new TextEncoder().encode(JSON.stringify(v));
 * ```
 */
export type PayloadSerializer = (value: unknown) => Uint8Array;

const encoder = new TextEncoder();

/**
 * The reference serializer: `JSON.stringify` encoded as UTF-8.
 *
 * @param value A value that passed validation.
 * @returns The UTF-8 bytes of its JSON text.
 *
 * @example
 * ```ts
 * import { jsonSerializer } from "@tbwasm/sdk";
 * new TextDecoder().decode(jsonSerializer({ a: 1 })); // '{"a":1}'
 * ```
 */
export const jsonSerializer: PayloadSerializer = (value): Uint8Array =>
  encoder.encode(JSON.stringify(value));

/** Deepest nesting accepted, so a degenerate value cannot exhaust the stack. */
const MAX_DEPTH = 256;

const UNREPRESENTABLE: ReadonlyArray<[new (...args: never[]) => unknown, string]> = [
  [Map, "a Map"],
  [Set, "a Set"],
  [WeakMap, "a WeakMap"],
  [WeakSet, "a WeakSet"],
  [ArrayBuffer, "an ArrayBuffer"],
  [Promise, "a Promise"],
  [RegExp, "a RegExp"],
];

function child(path: string, key: string): string {
  return path === "" ? key : `${path}.${key}`;
}

function where(path: string): string {
  return path === "" ? "the payload" : `value of "${path}"`;
}

function typeName(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

/**
 * Checks that `value` is something JSON represents exactly.
 *
 * @param what What is being sent, for the message ("telemetry", "attributes", "RPC reply").
 * @param value The value to check.
 * @param path Key path of `value` within the payload (`""` for the root).
 * @throws {InvalidPayloadError} naming the first offending key path.
 */
function checkValue(what: string, value: unknown, path: string, ancestors: unknown[]): void {
  switch (typeof value) {
    case "string":
    case "boolean":
      return;
    case "number":
      if (Number.isFinite(value)) return;
      throw new InvalidPayloadError(`Cannot send ${what}: ${where(path)} is ${value}`, path);
    case "undefined":
    case "function":
    case "symbol":
      throw new InvalidPayloadError(
        `Cannot send ${what}: ${where(path)} is ${typeName(value)}`,
        path,
      );
    case "bigint":
      throw new InvalidPayloadError(
        `Cannot send ${what}: ${where(path)} is a bigint, convert it to a number or a string`,
        path,
      );
  }
  if (value === null) return;
  const object = value as Record<string, unknown>;
  if (typeof object.toJSON === "function") {
    const replaced: unknown = object.toJSON(path.slice(path.lastIndexOf(".") + 1));
    if (replaced !== value) {
      checkValue(what, replaced, path, ancestors);
      return;
    }
  }
  if (value instanceof Number || value instanceof String || value instanceof Boolean) {
    checkValue(what, value.valueOf(), path, ancestors);
    return;
  }
  if (ArrayBuffer.isView(value)) {
    throw new InvalidPayloadError(
      `Cannot send ${what}: ${
        where(path)
      } is a ${value.constructor.name}, which JSON cannot represent`,
      path,
    );
  }
  for (const [ctor, name] of UNREPRESENTABLE) {
    if (value instanceof ctor) {
      throw new InvalidPayloadError(
        `Cannot send ${what}: ${where(path)} is ${name}, which JSON cannot represent`,
        path,
      );
    }
  }
  const index = ancestors.indexOf(value);
  if (index !== -1) {
    throw new InvalidPayloadError(
      `Cannot send ${what}: ${where(path)} is a circular reference`,
      path,
    );
  }
  if (ancestors.length >= MAX_DEPTH) {
    throw new InvalidPayloadError(
      `Cannot send ${what}: ${where(path)} is nested deeper than ${MAX_DEPTH} levels`,
      path,
    );
  }
  ancestors.push(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      checkValue(what, value[i], `${path}[${i}]`, ancestors);
    }
  } else {
    for (const key of Object.keys(object)) {
      checkValue(what, object[key], child(path, key), ancestors);
    }
  }
  ancestors.pop();
}

function isPlainRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function checkKeyValues(what: string, value: unknown, path: string): void {
  if (!isPlainRecord(value)) {
    const at = path === "" ? "expected an object" : `"${path}" must be an object`;
    throw new InvalidPayloadError(`Cannot send ${what}: ${at}, got ${typeName(value)}`, path);
  }
  checkValue(what, value, path, []);
}

function checkTelemetryEntry(value: unknown, path: string): void {
  if (!isPlainRecord(value) || !("ts" in value) || !("values" in value)) {
    checkKeyValues("telemetry", value, path);
    return;
  }
  const ts = value.ts;
  const tsPath = child(path, "ts");
  if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) {
    const got = typeof ts === "number" ? String(ts) : typeName(ts);
    throw new InvalidPayloadError(
      `Cannot send telemetry: "${tsPath}" must be a timestamp in milliseconds (a non-negative integer), got ${got}`,
      tsPath,
    );
  }
  for (const key of Object.keys(value)) {
    if (key !== "ts" && key !== "values") {
      const extra = child(path, key);
      throw new InvalidPayloadError(
        `Cannot send telemetry: "${extra}" is next to "ts" and "values" and ThingsBoard would drop it`,
        extra,
      );
    }
  }
  checkKeyValues("telemetry", value.values, child(path, "values"));
}

/**
 * Checks a telemetry payload: an object, a `{ ts, values }` entry (both keys,
 * nothing else), or an array of those, with JSON values throughout.
 *
 * An object with `ts` but no `values` is an ordinary object: ThingsBoard
 * stores `ts` as a key of that name.
 *
 * @param data The telemetry to check.
 * @throws {InvalidPayloadError} naming the first offending key path.
 *
 * @example
 * ```ts
 * import { validateTelemetry, InvalidPayloadError } from "@tbwasm/sdk";
 * try {
 *   validateTelemetry([{ ts: 1, values: { t: NaN } }]);
 * } catch (e) {
 *   console.log((e as InvalidPayloadError).key); // "[0].values.t"
 * }
 * ```
 */
export function validateTelemetry(data: unknown): asserts data is Telemetry {
  if (Array.isArray(data)) {
    for (let i = 0; i < data.length; i++) checkTelemetryEntry(data[i], `[${i}]`);
    return;
  }
  if (!isPlainRecord(data)) {
    throw new InvalidPayloadError(
      `Cannot send telemetry: expected an object or an array of objects, got ${typeName(data)}`,
      "",
    );
  }
  checkTelemetryEntry(data, "");
}

/**
 * Checks a client-attributes payload: one object of JSON values (ThingsBoard
 * rejects arrays here).
 *
 * @param data The attributes to check.
 * @throws {InvalidPayloadError} naming the first offending key path.
 *
 * @example
 * ```ts
 * import { validateAttributes } from "@tbwasm/sdk";
 * validateAttributes({ firmware: "1.2.0", model: { rev: 3 } }); // ok
 * ```
 */
export function validateAttributes(data: unknown): asserts data is KeyValues {
  checkKeyValues("attributes", data, "");
}

/**
 * Checks that `value` is any JSON value (RPC params and replies).
 *
 * @param value The value to check.
 * @param what What is being sent, for the error message.
 * @throws {InvalidPayloadError} naming the first offending key path.
 *
 * @example
 * ```ts
 * import { validateJson } from "@tbwasm/sdk";
 * validateJson({ pin: 4, on: true }, "RPC params"); // ok
 * ```
 */
export function validateJson(value: unknown, what = "value"): void {
  checkValue(what, value, "", []);
}

/**
 * Validates and serializes telemetry.
 *
 * @param data Telemetry in any shape ThingsBoard accepts.
 * @param serializer Serializer to use.
 * @returns The UTF-8 JSON bytes to publish.
 * @throws {InvalidPayloadError} before serializing if anything is invalid.
 *
 * @example
 * ```ts
 * import { encodeTelemetry } from "@tbwasm/sdk";
 * const bytes = encodeTelemetry({ temperature: 21.5 });
 * ```
 */
export function encodeTelemetry(
  data: Telemetry,
  serializer: PayloadSerializer = jsonSerializer,
): Uint8Array {
  validateTelemetry(data);
  return serializer(data);
}

/**
 * Validates and serializes client attributes.
 *
 * @param data One object of attributes.
 * @param serializer Serializer to use.
 * @returns The UTF-8 JSON bytes to publish.
 * @throws {InvalidPayloadError} before serializing if anything is invalid.
 *
 * @example
 * ```ts
 * import { encodeAttributes } from "@tbwasm/sdk";
 * const bytes = encodeAttributes({ firmware: "1.2.0" });
 * ```
 */
export function encodeAttributes(
  data: KeyValues,
  serializer: PayloadSerializer = jsonSerializer,
): Uint8Array {
  validateAttributes(data);
  return serializer(data);
}

/**
 * Validates and serializes any JSON value.
 *
 * @param value The value.
 * @param what What is being sent, for the error message ("RPC reply").
 * @param serializer Serializer to use.
 * @returns The UTF-8 JSON bytes to publish.
 * @throws {InvalidPayloadError} before serializing if anything is invalid.
 *
 * @example
 * ```ts
 * import { encodeJson } from "@tbwasm/sdk";
 * const bytes = encodeJson({ method: "getTime", params: {} }, "RPC call");
 * ```
 */
export function encodeJson(
  value: unknown,
  what = "value",
  serializer: PayloadSerializer = jsonSerializer,
): Uint8Array {
  validateJson(value, what);
  return serializer(value);
}
