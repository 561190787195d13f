/**
 * Typed events of {@linkcode TBGatewayMqttClient}.
 *
 * @module
 */

import type { TBDeviceMqttClientEventMap } from "../client/events.ts";

/**
 * A `v1/gateway/disconnect` notice from ThingsBoard (MQTT 5 sessions): a
 * device behind the gateway was disconnected, with an MQTT 5 reason code,
 * e.g. 150 (0x96, message rate too high; ThingsBoard then also closes the
 * gateway connection) or 129 (0x81, malformed: a gateway message sent with
 * QoS 0).
 *
 * @example
 * ```ts
 * import type { DeviceDisconnectNotice } from "@tbwasm/sdk/gateway";
 * const n: DeviceDisconnectNotice = { device: "Sensor A", reason: 150, description: "0x96 message rate too high" };
 * ```
 */
export interface DeviceDisconnectNotice {
  /** The device's name. */
  device: string;
  /** ThingsBoard's MQTT 5 reason code. */
  reason: number;
  /** The reason code in words, e.g. `"0x96 message rate too high"`. */
  description: string;
}

/**
 * Events dispatched by {@linkcode TBGatewayMqttClient}, by name: those of
 * the device client (`connect`, `disconnect`, `reconnecting`, `error`,
 * `sessionlimits`) and
 *
 * - `devicedisconnect`: ThingsBoard's `v1/gateway/disconnect` notice about
 *   one device ({@linkcode DeviceDisconnectNotice}); the device stays in
 *   {@linkcode TBGatewayMqttClient.devices} and is announced again after a
 *   reconnect.
 * - `deviceannounce`: the devices were announced again after a reconnect
 *   (detail: their names).
 *
 * @example
 * ```ts
 * import type { TBGatewayMqttClientEventMap } from "@tbwasm/sdk/gateway";
 * const on = (e: TBGatewayMqttClientEventMap["devicedisconnect"]) => console.log(e.detail.device);
 * ```
 */
export interface TBGatewayMqttClientEventMap extends TBDeviceMqttClientEventMap {
  /** ThingsBoard disconnected a device behind the gateway. */
  devicedisconnect: CustomEvent<DeviceDisconnectNotice>;
  /** The devices were announced again after a reconnect. */
  deviceannounce: CustomEvent<string[]>;
}
