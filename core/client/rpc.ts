/**
 * Server-side and client-side RPC: request and reply shapes.
 *
 * @module
 */

import type { JsonValue } from "../payload.ts";
import { RpcError } from "./errors.ts";
import { MAX_REQUEST_ID } from "./topics.ts";
import { isObject } from "./_json.ts";

/**
 * A server-side RPC request delivered to the device.
 *
 * @example
 * ```ts
 * import type { RpcRequest } from "@tbwasm/sdk";
 * const r: RpcRequest = { id: 7, method: "setValve", params: { open: true } };
 * ```
 */
export interface RpcRequest {
  /** ThingsBoard's request id (the last topic level); reply with it. */
  id: number;
  /** The RPC method. */
  method: string;
  /** The RPC params (`null` when ThingsBoard sent none). */
  params: JsonValue;
}

/**
 * Handles server-side RPC. What it returns (or its Promise resolves to) is
 * sent as the reply; `undefined` sends nothing (reply later with
 * {@linkcode TBDeviceMqttClient.sendRpcReply}); a thrown error (or rejected
 * Promise) replies `{"error":"<message>"}`.
 *
 * @example
 * ```ts
 * import type { RpcHandler } from "@tbwasm/sdk";
 * const handler: RpcHandler = async ({ method, params }) => {
 *   if (method === "getTime") return { time: Date.now() };
 *   throw new Error(`unknown method ${method}`);
 * };
 * ```
 */
export type RpcHandler = (request: RpcRequest) => unknown;

/**
 * Parses the payload of a server-side RPC request (`{"method","params"}`).
 *
 * @param id The id from the topic.
 * @param json The parsed payload.
 * @returns The request.
 * @throws {TypeError} when `method` is missing or not a string.
 */
export function parseRpcRequest(id: number, json: JsonValue): RpcRequest {
  if (!isObject(json) || typeof json.method !== "string") {
    throw new TypeError('expected an object with a string "method"');
  }
  return { id, method: json.method, params: json.params ?? null };
}

/**
 * Turns a client-side RPC reply into its result: `{"error":"…"}` (the only
 * key, a string) is ThingsBoard's error reply.
 *
 * @param method The method called, for the error.
 * @param json The parsed reply.
 * @returns The result.
 * @throws {RpcError} for an error reply.
 */
export function rpcResult(method: string, json: JsonValue): JsonValue {
  if (isObject(json) && typeof json.error === "string" && Object.keys(json).length === 1) {
    throw new RpcError(method, json.error);
  }
  return json;
}

/**
 * The reply sent for a failed RPC handler.
 *
 * @param error What the handler threw.
 * @returns `{ error: message }`.
 */
export function errorReply(error: unknown): { error: string } {
  if (error instanceof Error) return { error: error.message || error.name };
  return { error: String(error) };
}

/**
 * Checks an id to reply to: ThingsBoard requires a decimal `int`.
 *
 * @param id The request id (a number, or the decimal string a port passes).
 * @returns The id as a number.
 * @throws {TypeError} when it is not a non-negative integer ThingsBoard accepts.
 */
export function checkRequestId(id: number | string): number {
  const n = typeof id === "string" && /^\d{1,10}$/.test(id) ? Number(id) : id;
  if (typeof n !== "number" || !Number.isInteger(n) || n < 0 || n > MAX_REQUEST_ID) {
    throw new TypeError(
      `Cannot send RPC reply: request id "${
        String(id)
      }" is not a valid id; pass the id of the request you answer`,
    );
  }
  return n;
}
