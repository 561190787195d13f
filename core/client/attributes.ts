/**
 * Attribute requests and shared-attribute subscriptions: building requests,
 * parsing responses and pushes, and the local subscription registry.
 *
 * @module
 */

import type { JsonObject, JsonValue } from "../payload.ts";
import { InvalidAttributeKeyError } from "./errors.ts";
import { isObject } from "./_json.ts";

/**
 * Attributes returned by {@linkcode TBDeviceMqttClient.requestAttributes}.
 * A scope ThingsBoard found nothing in is an empty object.
 *
 * @example
 * ```ts
 * import type { AttributesResponse } from "@tbwasm/sdk";
 * const r: AttributesResponse = { client: { fw: "1.0" }, shared: { targetTemp: 22 } };
 * ```
 */
export interface AttributesResponse {
  /** Client-side attributes (posted by the device). */
  client: JsonObject;
  /** Shared attributes (set on the server). */
  shared: JsonObject;
}

/**
 * A shared-attribute change pushed by ThingsBoard: new values and deleted keys.
 *
 * @example
 * ```ts
 * import type { AttributeUpdate } from "@tbwasm/sdk";
 * const u: AttributeUpdate = { values: { targetTemp: 22 }, deleted: ["mode"] };
 * ```
 */
export interface AttributeUpdate {
  /** Updated shared attributes. */
  values: JsonObject;
  /** Keys of deleted shared attributes. */
  deleted: string[];
}

/**
 * Receives shared-attribute updates. Errors it throws (or its Promise
 * rejects with) are logged and reported through the client's `error` event.
 *
 * @example
 * ```ts
 * import type { AttributeCallback } from "@tbwasm/sdk";
 * const cb: AttributeCallback = ({ values, deleted }) => console.log(values, deleted);
 * ```
 */
export type AttributeCallback = (update: AttributeUpdate) => void | Promise<void>;

/**
 * Which attributes to request. Omit both (or pass empty lists) to get all
 * client and all shared attributes.
 *
 * @example
 * ```ts
 * import type { AttributeKeys } from "@tbwasm/sdk";
 * const keys: AttributeKeys = { clientKeys: ["fw"], sharedKeys: ["targetTemp", "mode"] };
 * ```
 */
export interface AttributeKeys {
  /** Client-side attribute keys. No key may be empty or contain a comma. */
  clientKeys?: readonly string[] | undefined;
  /** Shared attribute keys. No key may be empty or contain a comma. */
  sharedKeys?: readonly string[] | undefined;
}

function joinKeys(keys: readonly string[] | undefined, scope: string): string | undefined {
  if (keys === undefined) return undefined;
  if (!Array.isArray(keys)) {
    throw new TypeError(`Cannot request attributes: ${scope} must be an array of strings`);
  }
  for (const key of keys) {
    if (typeof key !== "string") {
      throw new TypeError(`Cannot request attributes: ${scope} must be an array of strings`);
    }
    if (key === "") {
      throw new InvalidAttributeKeyError(
        `Cannot request attributes: ${scope} contains an empty key`,
        key,
      );
    }
    if (key.includes(",")) {
      throw new InvalidAttributeKeyError(
        `Cannot request attributes: key "${key}" in ${scope} contains a comma, which ThingsBoard splits keys on`,
        key,
      );
    }
  }
  return keys.length === 0 ? undefined : keys.join(",");
}

/**
 * Builds the JSON body of an attribute request: `{"clientKeys":"a,b","sharedKeys":"c"}`.
 *
 * @param keys The keys to request.
 * @returns The request body (`{}` asks for everything).
 * @throws {InvalidAttributeKeyError} for an empty key or one containing a comma.
 * @throws {TypeError} when the key lists are not arrays of strings.
 */
export function buildAttributeRequest(keys: AttributeKeys): Record<string, string> {
  const body: Record<string, string> = {};
  const client = joinKeys(keys.clientKeys, "clientKeys");
  const shared = joinKeys(keys.sharedKeys, "sharedKeys");
  if (client !== undefined) body.clientKeys = client;
  if (shared !== undefined) body.sharedKeys = shared;
  return body;
}

/**
 * Parses an attribute response (`{"client":{…},"shared":{…}}`, scopes
 * without values omitted).
 *
 * @param json The parsed payload.
 * @returns Both scopes, empty when absent.
 * @throws {TypeError} when the payload has another shape.
 */
export function parseAttributeResponse(json: JsonValue): AttributesResponse {
  if (!isObject(json)) throw new TypeError("expected a JSON object");
  const { client = {}, shared = {} } = json;
  if (!isObject(client) || !isObject(shared)) {
    throw new TypeError('expected "client" and "shared" to be objects');
  }
  return { client, shared };
}

/**
 * Parses a shared-attribute push: a flat object with an optional
 * `"deleted":[…]` list.
 *
 * @param json The parsed payload.
 * @returns The update.
 * @throws {TypeError} when the payload has another shape.
 */
export function parseAttributeUpdate(json: JsonValue): AttributeUpdate {
  if (!isObject(json)) throw new TypeError("expected a JSON object");
  const { deleted, ...values } = json;
  if (deleted === undefined) return { values, deleted: [] };
  if (!Array.isArray(deleted) || !deleted.every((k) => typeof k === "string")) {
    throw new TypeError('expected "deleted" to be an array of strings');
  }
  return { values, deleted: deleted as string[] };
}

interface Subscription {
  key: string | undefined;
  callback: AttributeCallback;
}

/**
 * The local registry of attribute subscriptions (ThingsBoard pushes every
 * shared attribute; filtering by key happens here). It lives as long as the
 * client, across reconnects.
 */
export class AttributeSubscriptions {
  #next = 1;
  #subscriptions = new Map<number, Subscription>();

  /** Number of subscriptions. */
  get size(): number {
    return this.#subscriptions.size;
  }

  /**
   * Adds a subscription.
   *
   * @param key The attribute key, or `undefined` for all attributes.
   * @param callback Receives updates.
   * @returns The subscription id (from 1, never reused).
   */
  add(key: string | undefined, callback: AttributeCallback): number {
    const id = this.#next++;
    this.#subscriptions.set(id, { key, callback });
    return id;
  }

  /**
   * Removes a subscription.
   *
   * @param id Its id.
   * @returns `false` when there was no such subscription.
   */
  remove(id: number): boolean {
    return this.#subscriptions.delete(id);
  }

  /**
   * Finds the callbacks an update concerns, each with the update it gets:
   * the whole update for "all attributes" subscriptions, just its key for
   * key subscriptions (also when the key was deleted).
   *
   * @param update The pushed update.
   * @returns Callbacks with their updates, in subscription order.
   */
  match(update: AttributeUpdate): Array<[AttributeCallback, AttributeUpdate]> {
    const out: Array<[AttributeCallback, AttributeUpdate]> = [];
    for (const { key, callback } of this.#subscriptions.values()) {
      if (key === undefined) {
        out.push([callback, update]);
      } else if (Object.hasOwn(update.values, key)) {
        out.push([callback, { values: { [key]: update.values[key] ?? null }, deleted: [] }]);
      } else if (update.deleted.includes(key)) {
        out.push([callback, { values: {}, deleted: [key] }]);
      }
    }
    return out;
  }
}
