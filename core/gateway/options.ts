/**
 * Options of {@linkcode TBGatewayMqttClient} and of its calls.
 *
 * @module
 */

import type { SendOptions, TBDeviceMqttClientOptions } from "../client/options.ts";

/**
 * Options of {@linkcode TBGatewayMqttClient}: those of the device client
 * (the gateway is a ThingsBoard device with `gateway: true`), without the
 * poll dispatch and the custom device topics. `qos` defaults to 1; QoS 0 is
 * refused on MQTT 5, where ThingsBoard answers every QoS 0 gateway message
 * with a "malformed packet" notice.
 *
 * @example
 * ```ts
 * import type { TBGatewayMqttClientOptions } from "@tbwasm/sdk/gateway";
 * const options: TBGatewayMqttClientOptions = {
 *   host: "127.0.0.1",
 *   accessToken: "GATEWAY_TOKEN",
 *   requestTimeout: 10_000,
 * };
 * ```
 */
export type TBGatewayMqttClientOptions = Omit<
  TBDeviceMqttClientOptions,
  "dispatch" | "pollQueueSize" | "telemetryTopic" | "attributesTopic"
>;

/**
 * Options of gateway calls that publish: QoS (0 only on MQTT 3.1.1) and an
 * abort signal.
 *
 * @example
 * ```ts
 * import type { GatewaySendOptions } from "@tbwasm/sdk/gateway";
 * const o: GatewaySendOptions = { signal: AbortSignal.timeout(5000) };
 * ```
 */
export type GatewaySendOptions = SendOptions;

/**
 * Options of {@linkcode TBGatewayMqttClient.connectDevice}.
 *
 * @example
 * ```ts
 * import type { ConnectDeviceOptions } from "@tbwasm/sdk/gateway";
 * const o: ConnectDeviceOptions = { type: "thermometer" };
 * ```
 */
export interface ConnectDeviceOptions extends SendOptions {
  /** Device profile ThingsBoard creates the device with. @default {"default" (ThingsBoard's)} */
  type?: string;
}

/**
 * Options of {@linkcode TBGatewayMqttClient.requestAttributes}: keys of
 * one scope or both (ThingsBoard's gateway API asks one scope per request;
 * with both, two requests are sent), timeout and signal.
 *
 * @example
 * ```ts
 * import type { GatewayAttributesRequest } from "@tbwasm/sdk/gateway";
 * const o: GatewayAttributesRequest = { sharedKeys: ["targetTemp"], timeout: 5000 };
 * ```
 */
export interface GatewayAttributesRequest {
  /** Client-side attribute keys. */
  clientKeys?: readonly string[];
  /** Shared attribute keys. */
  sharedKeys?: readonly string[];
  /** Milliseconds to wait for each answer. @default {the client's `requestTimeout`} */
  timeout?: number;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode TBGatewayMqttClient.claimDevice}.
 *
 * @example
 * ```ts
 * import type { ClaimDeviceOptions } from "@tbwasm/sdk/gateway";
 * const o: ClaimDeviceOptions = { durationMs: 60_000 };
 * ```
 */
export interface ClaimDeviceOptions extends SendOptions {
  /** How long the claim is possible, ms. @default {ThingsBoard's `device.claim.duration`} */
  durationMs?: number;
}
