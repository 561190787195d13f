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
 *   an invalid message from the server, a throwing callback or RPC handler.
 * - `sessionlimits`: ThingsBoard reported its session limits.
 *
 * @example
 * ```ts
 * import type { TBDeviceMqttClientEventMap } from "@tbwasm/sdk";
 * const onDisconnect = (e: TBDeviceMqttClientEventMap["disconnect"]) => console.log(e.detail.reasonCode);
 * ```
 */
export interface TBDeviceMqttClientEventMap {
  connect: CustomEvent<ConnackPacket>;
  disconnect: CustomEvent<DisconnectDetail>;
  reconnecting: CustomEvent<ReconnectingDetail>;
  error: CustomEvent<Error>;
  sessionlimits: CustomEvent<SessionLimits>;
}

/**
 * An `EventTarget` whose `addEventListener`/`removeEventListener` are typed
 * by an event map, and which dispatches `CustomEvent`s by name.
 *
 * @typeParam M Event name → event type.
 *
 * @example
 * ```ts
 * import { TypedEventTarget } from "./events.ts";
 * class Sensor extends TypedEventTarget<{ reading: CustomEvent<number> }> {}
 * new Sensor().addEventListener("reading", (e) => console.log(e.detail.toFixed(1)));
 * ```
 */
export class TypedEventTarget<M extends { [K in keyof M]: Event }> extends EventTarget {
  /**
   * Adds a listener, typed by event name.
   *
   * @param type Event name.
   * @param listener The listener.
   * @param options Listener options.
   *
   * @example
   * ```ts ignore
   * client.addEventListener("disconnect", (e) => console.log(e.detail.reason?.message));
   * ```
   */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: (event: M[K]) => void,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: ((event: never) => void) | EventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Removes a listener.
   *
   * @param type Event name.
   * @param listener The listener.
   * @param options Listener options.
   *
   * @example
   * ```ts ignore
   * client.removeEventListener("error", onError);
   * ```
   */
  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: (event: M[K]) => void,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: ((event: never) => void) | EventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
}
