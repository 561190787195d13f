/**
 * Bodies of the gateway API's messages: building what the gateway sends
 * (after validation) and parsing what ThingsBoard sends it.
 *
 * @module
 */

import type { JsonObject, JsonValue, KeyValues, Telemetry } from "../payload.ts";
import { validateAttributes, validateJson, validateTelemetry } from "../payload.ts";
import { isObject } from "../client/_json.ts";
import { parseAttributeUpdate } from "../client/attributes.ts";
import { InvalidAttributeKeyError } from "../client/errors.ts";
import { MAX_REQUEST_ID } from "../client/topics.ts";
import { InvalidDeviceNameError } from "./errors.ts";

/**
 * Checks a device name.
 *
 * @param device The name.
 * @param what Start of the error message, e.g. `Cannot send telemetry`.
 * @returns The name.
 * @throws {InvalidDeviceNameError} unless it is a non-empty string.
 */
export function checkDeviceName(device: unknown, what: string): string {
  if (typeof device !== "string" || device === "") {
    throw new InvalidDeviceNameError(`${what}: device name must be a non-empty string`, device);
  }
  return device;
}

/**
 * `{"A":[…]}`: ThingsBoard skips a device whose value is not an array.
 *
 * @param device The device name.
 * @param data Telemetry in any shape the device API accepts.
 * @returns The body.
 * @throws {InvalidPayloadError} for bad values.
 */
export function telemetryBody(device: string, data: Telemetry): Record<string, unknown> {
  validateTelemetry(data);
  return { [device]: Array.isArray(data) ? data : [data] };
}

/**
 * `{"A":{…}}`.
 *
 * @param device The device name.
 * @param attributes One object.
 * @returns The body.
 * @throws {InvalidPayloadError} for bad values.
 */
export function attributesBody(device: string, attributes: KeyValues): Record<string, unknown> {
  validateAttributes(attributes);
  return { [device]: attributes };
}

/**
 * `{"A":{"secretKey","durationMs"}}`.
 *
 * @param device The device name.
 * @param secretKey The secret, if any.
 * @param durationMs The duration, if any.
 * @returns The body.
 * @throws {TypeError} for a non-string key or a bad duration.
 */
export function claimBody(
  device: string,
  secretKey: string | undefined,
  durationMs: number | undefined,
): Record<string, unknown> {
  const claim: Record<string, unknown> = {};
  if (secretKey !== undefined) {
    if (typeof secretKey !== "string") {
      throw new TypeError("Cannot claim device: secretKey must be a string");
    }
    claim.secretKey = secretKey;
  }
  if (durationMs !== undefined) {
    if (!Number.isSafeInteger(durationMs) || durationMs <= 0) {
      throw new TypeError("Cannot claim device: durationMs must be a positive integer");
    }
    claim.durationMs = durationMs;
  }
  return { [device]: claim };
}

/**
 * Checks the keys of one scope of an attribute request.
 *
 * @param keys The keys.
 * @param scope `clientKeys` or `sharedKeys`, for messages.
 * @returns The keys, without duplicates.
 * @throws {TypeError} when not a non-empty array of strings.
 * @throws {InvalidAttributeKeyError} for an empty key.
 */
export function checkKeys(keys: unknown, scope: string): string[] {
  const what = "Cannot request attributes";
  if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
    throw new TypeError(`${what}: ${scope} must be an array of strings`);
  }
  if (keys.length === 0) {
    throw new TypeError(
      `${what}: ${scope} is empty (ThingsBoard's gateway API cannot tell the scopes apart when asked for all attributes); list the keys you need or leave ${scope} out`,
    );
  }
  for (const key of keys as string[]) {
    if (key === "") {
      throw new InvalidAttributeKeyError(`${what}: ${scope} contains an empty key`, key);
    }
  }
  return [...new Set(keys as string[])];
}

/**
 * `{"id","device","client","key"}` for one key, else `{…,"keys":[…]}`.
 *
 * @param id Request id.
 * @param device Device name.
 * @param client Client scope (else shared).
 * @param keys Checked keys.
 * @returns The body.
 */
export function attributeRequestBody(
  id: number,
  device: string,
  client: boolean,
  keys: readonly string[],
): Record<string, unknown> {
  return keys.length === 1
    ? { id, device, client, key: keys[0] }
    : { id, device, client, keys: [...keys] };
}

/**
 * Maps a response to the keys asked for: `value` is the single value found
 * (ThingsBoard sends it whenever exactly one was found, whatever was asked),
 * `values` the found values by key.
 *
 * @param keys The keys asked for.
 * @param response The parsed response.
 * @returns The values by key, or `undefined` when a single `value` answers a
 * request for several keys (which key it belongs to is unknown).
 * @throws {TypeError} when `values` is not an object.
 */
export function resolveValues(
  keys: readonly string[],
  response: JsonObject,
): JsonObject | undefined {
  if (response.values !== undefined) {
    if (!isObject(response.values)) throw new TypeError('expected "values" to be an object');
    const out: JsonObject = {};
    for (const key of keys) {
      if (Object.hasOwn(response.values, key)) out[key] = response.values[key] ?? null;
    }
    return out;
  }
  if (!Object.hasOwn(response, "value")) return {};
  if (keys.length !== 1) return undefined;
  return { [keys[0]!]: response.value ?? null };
}

/**
 * The id of a response (or RPC request) that ThingsBoard could have produced.
 *
 * @param value The `id` field.
 * @returns The id, or `undefined`.
 */
export function parseId(value: JsonValue | undefined): number | undefined {
  return typeof value === "number" && Number.isInteger(value) && value >= 0 &&
      value <= MAX_REQUEST_ID
    ? value
    : undefined;
}

/**
 * A shared-attribute push to a device behind the gateway.
 *
 * @example
 * ```ts
 * import type { GatewayAttributeUpdate } from "@tbwasm/sdk/gateway";
 * const u: GatewayAttributeUpdate = { device: "Sensor A", values: { rate: 5 }, deleted: [] };
 * ```
 */
export interface GatewayAttributeUpdate {
  /** The device's name. */
  device: string;
  /** Updated shared attributes. */
  values: JsonObject;
  /** Keys of deleted shared attributes. */
  deleted: string[];
}

/**
 * Parses `{"device","data":{…,"deleted":[…]}}`.
 *
 * @param json The parsed payload.
 * @returns The update.
 * @throws {TypeError} for another shape.
 */
export function parseGatewayAttributeUpdate(json: JsonValue): GatewayAttributeUpdate {
  if (!isObject(json) || typeof json.device !== "string") {
    throw new TypeError('expected an object with a string "device"');
  }
  const { values, deleted } = parseAttributeUpdate(json.data ?? null);
  return { device: json.device, values, deleted };
}

/**
 * A server-side RPC to a device behind the gateway.
 *
 * @example
 * ```ts
 * import type { GatewayRpcRequest } from "@tbwasm/sdk/gateway";
 * const r: GatewayRpcRequest = { device: "Valve 1", id: 3, method: "open", params: { pct: 50 } };
 * ```
 */
export interface GatewayRpcRequest {
  /** The device's name. */
  device: string;
  /** ThingsBoard's request id; reply with it. */
  id: number;
  /** The RPC method. */
  method: string;
  /** The RPC params (`null` when ThingsBoard sent none). */
  params: JsonValue;
}

/**
 * Parses `{"device","data":{"id","method","params"}}`.
 *
 * @param json The parsed payload.
 * @returns The request.
 * @throws {TypeError} for another shape.
 */
export function parseGatewayRpcRequest(json: JsonValue): GatewayRpcRequest {
  const data = isObject(json) ? json.data : undefined;
  const id = isObject(data) ? parseId(data.id) : undefined;
  if (
    !isObject(json) || typeof json.device !== "string" || !isObject(data) ||
    id === undefined || typeof data.method !== "string"
  ) {
    throw new TypeError('expected {"device","data":{"id","method","params"}}');
  }
  return { device: json.device, id, method: data.method, params: data.params ?? null };
}

/**
 * Parses a `v1/gateway/disconnect` notice `{"device","reason"}`.
 *
 * @param json The parsed payload.
 * @returns Device and reason code.
 * @throws {TypeError} for another shape.
 */
export function parseDisconnectNotice(json: JsonValue): { device: string; reason: number } {
  if (
    !isObject(json) || typeof json.device !== "string" || typeof json.reason !== "number" ||
    !Number.isInteger(json.reason)
  ) {
    throw new TypeError('expected {"device","reason"}');
  }
  return { device: json.device, reason: json.reason };
}

/**
 * Checks an RPC reply value.
 *
 * @param device Device name.
 * @param id Request id.
 * @param data The reply.
 * @returns The body `{"device","id","data"}`.
 * @throws {TypeError} for a bad id; {InvalidPayloadError} for a bad value.
 */
export function rpcReplyBody(device: string, id: number, data: unknown): Record<string, unknown> {
  if (parseId(id) === undefined) {
    throw new TypeError(
      `Cannot send RPC reply: request id "${
        String(id)
      }" is not a valid id; pass the id of the request you answer`,
    );
  }
  validateJson(data, "RPC reply");
  return { device, id, data };
}
