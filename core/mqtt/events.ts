/**
 * Typed events of {@linkcode MqttClient}.
 *
 * @module
 */

import type { ConnackPacket, PublishPacket } from "../codec/types.ts";

/**
 * Detail of the `"disconnect"` event.
 *
 * @example
 * ```ts
 * import type { DisconnectDetail } from "./events.ts";
 * const d: DisconnectDetail = { reason: undefined };
 * ```
 */
export interface DisconnectDetail {
  /** Why the connection ended; `undefined` after `disconnect()`. */
  reason: Error | undefined;
  /** The server's MQTT 5 DISCONNECT reason code, when it sent one. */
  reasonCode?: number;
}

/**
 * Detail of the `"reconnecting"` event.
 *
 * @example
 * ```ts
 * import type { ReconnectingDetail } from "./events.ts";
 * const d: ReconnectingDetail = { attempt: 1, delay: 1000 };
 * ```
 */
export interface ReconnectingDetail {
  /** 1 for the first attempt after a connection loss. */
  attempt: number;
  /** Milliseconds until the attempt. */
  delay: number;
}

/**
 * Events dispatched by {@linkcode MqttClient}, by name.
 *
 * - `connect`: a connection (or reconnection) was accepted; detail is the CONNACK.
 * - `disconnect`: a connection ended.
 * - `reconnecting`: a reconnect attempt is scheduled.
 * - `error`: something failed that no caller awaits (a decode error, a
 *   refused resubscription, a reconnect attempt, a dropped fire-and-forget message).
 * - `message`: a PUBLISH arrived (QoS 1 ones are acknowledged automatically).
 *
 * @example
 * ```ts
 * import type { MqttClientEventMap } from "./events.ts";
 * const onMessage = (e: MqttClientEventMap["message"]) => console.log(e.detail.topic);
 * ```
 */
export interface MqttClientEventMap {
  /** A connection (or reconnection) was accepted; `detail` is the CONNACK. */
  connect: CustomEvent<ConnackPacket>;
  /** A connection ended; `detail.reason` is `undefined` after `disconnect()`. */
  disconnect: CustomEvent<DisconnectDetail>;
  /** A reconnect attempt is scheduled. */
  reconnecting: CustomEvent<ReconnectingDetail>;
  /** A failure nobody awaits. */
  error: CustomEvent<Error>;
  /** A PUBLISH arrived (QoS 1 already acknowledged). */
  message: CustomEvent<PublishPacket>;
}

/**
 * A listener for one event of {@linkcode MqttClientEventMap}.
 *
 * @example
 * ```ts
 * import type { MqttClientListener } from "./events.ts";
 * const l: MqttClientListener<"error"> = (e) => console.error(e.detail.message);
 * ```
 */
export type MqttClientListener<K extends keyof MqttClientEventMap> = (
  event: MqttClientEventMap[K],
) => void;

/**
 * An `EventTarget` whose `addEventListener` / `removeEventListener` know the
 * event types of `M`.
 *
 * @example
 * ```ts
 * import { TypedEventTarget } from "./events.ts";
 * const t = new TypedEventTarget<{ tick: CustomEvent<number> }>();
 * t.addEventListener("tick", (e) => console.log(e.detail + 1));
 * ```
 */
export class TypedEventTarget<M extends { [K in keyof M]: Event }> extends EventTarget {
  /**
   * Adds a typed listener.
   *
   * @param type Event name.
   * @param listener Listener.
   * @param options Standard listener options.
   */
  override addEventListener<K extends keyof M & string>(
    type: K,
    listener: ((event: M[K]) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  /**
   * Adds a listener for any event name.
   *
   * @param type Event name.
   * @param listener Listener.
   * @param options Standard listener options.
   */
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | AddEventListenerOptions,
  ): void;
  override addEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => void) | null,
    options?: boolean | AddEventListenerOptions,
  ): void {
    super.addEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }

  /**
   * Removes a listener.
   *
   * @param type Event name.
   * @param listener Listener.
   * @param options Standard listener options.
   */
  override removeEventListener<K extends keyof M & string>(
    type: K,
    listener: ((event: M[K]) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void;
  /**
   * Removes a listener for any event name.
   *
   * @param type Event name.
   * @param listener Listener.
   * @param options Standard listener options.
   */
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | null,
    options?: boolean | EventListenerOptions,
  ): void;
  override removeEventListener(
    type: string,
    listener: EventListenerOrEventListenerObject | ((event: never) => void) | null,
    options?: boolean | EventListenerOptions,
  ): void {
    super.removeEventListener(type, listener as EventListenerOrEventListenerObject | null, options);
  }
}
