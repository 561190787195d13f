/**
 * Topics of ThingsBoard's gateway MQTT API.
 *
 * @module
 */

/**
 * Topics of ThingsBoard's gateway MQTT API (`v1/gateway/…`).
 *
 * @example
 * ```ts
 * import { GatewayTopics } from "@tbwasm/sdk/gateway";
 * console.log(GatewayTopics.telemetry); // "v1/gateway/telemetry"
 * ```
 */
export const GatewayTopics = {
  /** PUBLISH `{"device","type"}`: a device is connected through the gateway. */
  connect: "v1/gateway/connect",
  /** PUBLISH `{"device"}` to disconnect a device; ThingsBoard's MQTT 5 notices `{"device","reason"}` arrive here. */
  disconnect: "v1/gateway/disconnect",
  /** PUBLISH `{"Device A":[…],…}`. */
  telemetry: "v1/gateway/telemetry",
  /** PUBLISH `{"Device A":{…},…}`; shared-attribute pushes `{"device","data"}` arrive here. */
  attributes: "v1/gateway/attributes",
  /** PUBLISH `{"id","device","client","keys"|"key"}`. */
  attributeRequest: "v1/gateway/attributes/request",
  /** Attribute responses `{"id","device","value"|"values"}` arrive here. */
  attributeResponse: "v1/gateway/attributes/response",
  /** Server-side RPC `{"device","data":{"id","method","params"}}` arrives here; replies `{"device","id","data"}` go here. */
  rpc: "v1/gateway/rpc",
  /** PUBLISH `{"Device A":{"secretKey","durationMs"}}`. */
  claim: "v1/gateway/claim",
} as const;

/**
 * The topic filters a gateway client subscribes to (besides the device
 * API's): shared-attribute pushes, attribute responses and server-side RPC
 * of the devices behind the gateway. Re-sent after every reconnect.
 *
 * @example
 * ```ts
 * import { GATEWAY_SUBSCRIPTIONS } from "@tbwasm/sdk/gateway";
 * console.log(GATEWAY_SUBSCRIPTIONS.length); // 3
 * ```
 */
export const GATEWAY_SUBSCRIPTIONS: readonly string[] = [
  GatewayTopics.attributes,
  GatewayTopics.attributeResponse,
  GatewayTopics.rpc,
];
