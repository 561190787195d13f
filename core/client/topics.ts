/**
 * ThingsBoard device API v1 topics and the parsing of ids out of them.
 *
 * @module
 */

/** Topic prefix of the device API. */
const ME = "v1/devices/me";

/**
 * Topics of ThingsBoard's device MQTT API v1.
 *
 * @example
 * ```ts
 * import { Topics } from "@tbwasm/sdk";
 * console.log(Topics.telemetry); // "v1/devices/me/telemetry"
 * ```
 */
export const Topics = {
  /** PUBLISH telemetry. */
  telemetry: `${ME}/telemetry`,
  /** PUBLISH client attributes; SUBSCRIBE to shared-attribute pushes. */
  attributes: `${ME}/attributes`,
  /** PUBLISH attribute requests on `…/request/{id}`. */
  attributeRequest: `${ME}/attributes/request/`,
  /** Attribute responses arrive on `…/response/{id}`. */
  attributeResponse: `${ME}/attributes/response/`,
  /** Server-side RPC arrives on `…/request/{id}`; client-side RPC is published there too. */
  rpcRequest: `${ME}/rpc/request/`,
  /** Replies to server-side RPC are published on `…/response/{id}`; replies to our calls arrive there. */
  rpcResponse: `${ME}/rpc/response/`,
  /** PUBLISH claim requests. */
  claim: `${ME}/claim`,
  /** Provisioning request (provision-only session). */
  provisionRequest: "/provision/request",
  /** Provisioning response (provision-only session). */
  provisionResponse: "/provision/response",
} as const;

/**
 * The topic filters a device client subscribes to after every (re)connect:
 * shared-attribute pushes, attribute responses, server-side RPC and replies
 * to client-side RPC.
 *
 * @example
 * ```ts
 * import { DEVICE_SUBSCRIPTIONS } from "@tbwasm/sdk";
 * console.log(DEVICE_SUBSCRIPTIONS.length); // 4
 * ```
 */
export const DEVICE_SUBSCRIPTIONS: readonly string[] = [
  Topics.attributes,
  `${Topics.attributeResponse}+`,
  `${Topics.rpcRequest}+`,
  `${Topics.rpcResponse}+`,
];

/** Largest id ThingsBoard parses (a Java `int`). */
export const MAX_REQUEST_ID = 2_147_483_647;

/**
 * Parses the decimal id after `prefix` in `topic`.
 *
 * @param topic An inbound topic name.
 * @param prefix One of the `…/` prefixes of {@linkcode Topics}.
 * @returns The id, or `undefined` when `topic` does not start with `prefix`
 * or the rest is not a decimal integer ThingsBoard could have produced.
 */
export function parseTopicId(topic: string, prefix: string): number | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  if (!/^\d{1,10}$/.test(rest)) return undefined;
  const id = Number(rest);
  return id <= MAX_REQUEST_ID ? id : undefined;
}
