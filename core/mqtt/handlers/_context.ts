/**
 * What packet handlers may do to the client. Implemented by `MqttClient`
 * for its current connection; private to `core/mqtt`.
 *
 * @module
 */

import type { Packet, PublishPacket } from "../../codec/types.ts";
import type { ProtocolViolationError } from "../errors.ts";
import type { InflightTable } from "../inflight.ts";
import type { Logger } from "../options.ts";
import type { SubscriptionRegistry } from "../subscriptions.ts";

/** The client as seen by packet handlers. */
export interface HandlerContext {
  /** Negotiated protocol level. */
  readonly protocolVersion: 4 | 5;
  /** In-flight QoS 1 messages. */
  readonly inflight: InflightTable;
  /** Subscriptions and pending requests. */
  readonly subscriptions: SubscriptionRegistry;
  /** Inbound QoS 2 packet ids received and not yet released. */
  readonly inboundQos2: Set<number>;
  /** Logger (may be a no-op). */
  readonly logger: Logger;
  /** Queues a packet on the current connection. */
  send(packet: Packet): void;
  /** Dispatches a `"message"` event. */
  deliver(packet: PublishPacket): void;
  /** Dispatches an `"error"` event for a failure nobody awaits. */
  reportError(error: Error): void;
  /** Called after in-flight capacity was freed. */
  settled(): void;
  /** Ends the connection (and reconnects, unless stopped). */
  fail(error: Error, reasonCode?: number): void;
  /**
   * The server broke the protocol: reports `error`, sends DISCONNECT with
   * `error.reasonCode` (MQTT 5), closes and reconnects [MQTT-4.13.1-1].
   */
  violation(error: ProtocolViolationError): void;
}
