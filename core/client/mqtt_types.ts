/**
 * The types of the MQTT layer and the codec, and {@linkcode TypedEventTarget},
 * that the device and gateway client APIs use. Both entry points
 * (`core/client/mod.ts`, `core/gateway/mod.ts`) re-export this block, so that
 * each documents itself.
 *
 * @example
 * ```ts
 * import type { ClientState } from "@tbwasm/sdk";
 * const state: ClientState = "disconnected";
 * ```
 *
 * @module
 */

export type {
  ClientState,
  Clock,
  DisconnectDetail,
  Logger,
  MqttClientOptions,
  QueueOptions,
  ReconnectingDetail,
  ReconnectOptions,
  TimerHandle,
  TlsOptions,
  Transport,
  TransportFactory,
  TransportOptions,
} from "../mqtt/mod.ts";
export type * from "../codec/types.ts";
export { TypedEventTarget } from "../mqtt/events.ts";
