/**
 * ThingsBoard's device topics (API v1 and the JSON-forced v2 short topics)
 * and the parsing of ids out of them.
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
 * ThingsBoard's short device topics with JSON forced (`/j`): the server reads
 * and writes JSON on them whatever payload type (JSON or Protobuf) the
 * device profile sets, and each telemetry message is 16 bytes shorter than
 * on {@linkcode Topics}. Claiming, session limits and provisioning have no
 * short topic and keep their v1 ones.
 *
 * @example
 * ```ts
 * import { ShortTopics } from "@tbwasm/sdk";
 * console.log(ShortTopics.telemetry); // "v2/t/j"
 * ```
 */
export const ShortTopics = {
  /** PUBLISH telemetry. */
  telemetry: "v2/t/j",
  /** PUBLISH client attributes; SUBSCRIBE to shared-attribute pushes. */
  attributes: "v2/a/j",
  /** PUBLISH attribute requests on `…/{id}`. */
  attributeRequest: "v2/a/req/j/",
  /** Attribute responses arrive on `…/{id}`. */
  attributeResponse: "v2/a/res/j/",
  /** Server-side RPC arrives on `…/{id}`; client-side RPC is published there too. */
  rpcRequest: "v2/r/req/j/",
  /** Replies to server-side RPC are published on `…/{id}`; replies to our calls arrive there. */
  rpcResponse: "v2/r/res/j/",
} as const;

/**
 * Which of ThingsBoard's device topic families a client uses: `"v1"`
 * ({@linkcode Topics}) or `"v2"` (the JSON-forced short topics,
 * {@linkcode ShortTopics}).
 *
 * @example
 * ```ts
 * import type { TopicFamily } from "@tbwasm/sdk";
 * const family: TopicFamily = "v2";
 * console.log(family);
 * ```
 */
export type TopicFamily = "v1" | "v2";

/** The device topics of one family (what {@linkcode deviceTopics} returns). */
export interface DeviceTopics {
  /** Telemetry. */
  telemetry: string;
  /** Client attributes out, shared-attribute pushes in. */
  attributes: string;
  /** Prefix of attribute requests. */
  attributeRequest: string;
  /** Prefix of attribute responses. */
  attributeResponse: string;
  /** Prefix of server-side RPC requests and of our calls. */
  rpcRequest: string;
  /** Prefix of replies, both ways. */
  rpcResponse: string;
  /** The filters subscribed to after every (re)connect. */
  subscriptions: readonly string[];
}

/**
 * The topics of a family.
 *
 * @param family `"v1"` or `"v2"`.
 * @returns Its topics and subscriptions.
 */
export function deviceTopics(family: TopicFamily): DeviceTopics {
  const t = family === "v1" ? Topics : ShortTopics;
  return { ...t, subscriptions: subscriptionsOf(t) };
}

/** Shared-attribute pushes, attribute responses, server-side RPC and replies to our calls. */
function subscriptionsOf(t: Omit<DeviceTopics, "telemetry" | "subscriptions">): string[] {
  return [t.attributes, `${t.attributeResponse}+`, `${t.rpcRequest}+`, `${t.rpcResponse}+`];
}

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
export const DEVICE_SUBSCRIPTIONS: readonly string[] = subscriptionsOf(Topics);

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
