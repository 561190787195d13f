/**
 * The ThingsBoard gateway client: {@linkcode TBGatewayMqttClient} connects
 * devices behind a gateway device and carries their telemetry, attributes,
 * attribute requests and updates, RPC and claims over ThingsBoard's gateway
 * MQTT API (`v1/gateway/…`).
 *
 * @example
 * ```ts ignore
 * import { TBGatewayMqttClient } from "@tbwasm/sdk/gateway";
 * await using gateway = new TBGatewayMqttClient({ host: "127.0.0.1", accessToken: "GATEWAY_TOKEN" });
 * await gateway.connect();
 * await gateway.connectDevice("Thermometer 1", { type: "thermometer" });
 * await gateway.sendTelemetry("Thermometer 1", { temperature: 21.5 });
 * ```
 *
 * @module
 */

export { TBGatewayMqttClient } from "./client.ts";
export type {
  ClaimDeviceOptions,
  ConnectDeviceOptions,
  GatewayAttributesRequest,
  GatewaySendOptions,
  TBGatewayMqttClientOptions,
} from "./options.ts";
export type { DeviceDisconnectNotice, TBGatewayMqttClientEventMap } from "./events.ts";
export type { GatewayAttributeUpdate, GatewayRpcRequest } from "./messages.ts";
export type { GatewayAttributeCallback } from "./subscriptions.ts";
export type { GatewayRpcHandler } from "./router.ts";
export { GATEWAY_SUBSCRIPTIONS, GatewayTopics } from "./topics.ts";
export { InvalidDeviceNameError } from "./errors.ts";

// Types of the shared device-client API that the gateway API uses, so that
// this entry point documents itself.
export type { AttributesResponse } from "../client/attributes.ts";
export type { RequestOptions, SendOptions, TBDeviceMqttClientOptions } from "../client/options.ts";
export type { TBDeviceMqttClientEventMap } from "../client/events.ts";
export type { RateLimitSpecs, SessionLimits } from "../client/limits.ts";
export type { JsonObject, JsonValue, KeyValues, Telemetry, TimeseriesEntry } from "../payload.ts";
export * from "../client/mqtt_types.ts";
