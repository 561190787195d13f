/**
 * Typed events of {@linkcode TBDeviceMqttClient}.
 *
 * @module
 */

import type { ConnackPacket } from "../codec/types.ts";
import type { DisconnectDetail, ReconnectingDetail } from "../mqtt/mod.ts";
import type { SessionLimits } from "./limits.ts";

/**
 * Events dispatched by {@linkcode TBDeviceMqttClient}, by name.
 *
 * - `connect`: a connection (or reconnection) was accepted; detail is the CONNACK.
 * - `disconnect`: a connection ended; detail has the reason (an Error, or
 *   `undefined` after `disconnect()`) and the server's MQTT 5 reason code
 *   (e.g. 0x8E when another connection with the same credentials took over).
 * - `reconnecting`: a reconnect attempt is scheduled (`attempt`, `delay` ms).
 * - `error`: something failed that no caller awaits: a refused subscription,
 *   an invalid message from the server, a throwing attribute callback, an RPC
 *   reply that cannot be sent. (A throwing RPC handler is not one: its error
 *   is the reply, `{"error": message}`, and is logged.)
 * - `sessionlimits`: ThingsBoard reported its session limits.
 *
 * @example
 * ```ts
 * import type { TBDeviceMqttClientEventMap } from "@tbwasm/sdk";
 * const onDisconnect = (e: TBDeviceMqttClientEventMap["disconnect"]) => console.log(e.detail.reasonCode);
 * ```
 */
export interface TBDeviceMqttClientEventMap {
  /** A connection (or reconnection) was accepted; the detail is the CONNACK. */
  connect: CustomEvent<ConnackPacket>;
  /** A connection ended: the reason (`undefined` after `disconnect()`) and the server's reason code. */
  disconnect: CustomEvent<DisconnectDetail>;
  /** A reconnect attempt is scheduled: attempt number and delay in ms. */
  reconnecting: CustomEvent<ReconnectingDetail>;
  /** Something failed that no caller awaits. */
  error: CustomEvent<Error>;
  /** ThingsBoard reported its session limits. */
  sessionlimits: CustomEvent<SessionLimits>;
}
