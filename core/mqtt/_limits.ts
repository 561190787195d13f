/**
 * The server's limits from its CONNACK, as they bound what this client
 * sends: Maximum Packet Size [MQTT-3.2.2-15], Maximum QoS [MQTT-3.2.2-11],
 * Retain Available [MQTT-3.2.2-14], Receive Maximum [MQTT-3.3.4-7] and
 * Server Keep Alive [MQTT-3.2.2-21]. Private to the client.
 *
 * @module
 */

import type { Codec, ConnackPacket, SubscribePacket, UnsubscribePacket } from "../codec/types.ts";
import { PayloadTooLargeError } from "./errors.ts";

/** Largest packet MQTT can carry: 1 + 4 + 268,435,455. */
export const MAX_PACKET = 268_435_460;

/** The limits of the current server on what the client sends (kept by the outbox). */
export interface SendLimits {
  /** Largest packet the client may send: the server's Maximum Packet Size or its own, whichever is smaller. */
  maxPacketSize: number;
  /** Highest QoS the server accepts (its MQTT 5 Maximum QoS). */
  maxQos: 0 | 1;
  /** Whether the server accepts retained messages (its MQTT 5 Retain Available). */
  retainAvailable: boolean;
}

/**
 * Takes the limits of a new connection from its CONNACK (absent properties
 * mean no limit: an MQTT 3.1.1 server sets none).
 *
 * @param limits Updated in place.
 * @param connack The server's CONNACK.
 * @param ownMax The client's own `maxPacketSize` option.
 */
export function applyConnackLimits(
  limits: SendLimits,
  connack: ConnackPacket,
  ownMax: number,
): void {
  const props = connack.properties;
  limits.maxPacketSize = Math.min(props?.maximumPacketSize ?? MAX_PACKET, ownMax);
  limits.maxQos = props?.maximumQoS ?? 1;
  limits.retainAvailable = props?.retainAvailable ?? true;
}

/**
 * @param connack The server's CONNACK.
 * @param capacity The client's `maxInflight`.
 * @returns The in-flight window: `capacity`, lowered by the server's Receive Maximum.
 */
export function inflightWindow(connack: ConnackPacket, capacity: number): number {
  return Math.min(capacity, connack.properties?.receiveMaximum ?? 65535);
}

/**
 * @param connack The server's CONNACK.
 * @param requested The keepalive the client asked for, in seconds.
 * @returns The keepalive to use: the server's Server Keep Alive, else `requested`.
 */
export function keepaliveFor(connack: ConnackPacket, requested: number): number {
  return connack.properties?.serverKeepAlive ?? requested;
}

/**
 * Refuses a SUBSCRIBE/UNSUBSCRIBE larger than the server accepts [MQTT-3.2.2-15].
 *
 * @param codec Codec (for the exact size).
 * @param protocolVersion Protocol level of the connection.
 * @param limit Largest packet the client may send.
 * @param packet The request (any packet identifier: the size does not depend on it).
 * @throws {PayloadTooLargeError} naming the packet type.
 */
export function checkRequestSize(
  codec: Codec,
  protocolVersion: 4 | 5,
  limit: number,
  packet: SubscribePacket | UnsubscribePacket,
): void {
  const size = codec.encodedLength(packet, { protocolVersion });
  if (size > limit) throw new PayloadTooLargeError(size, limit, packet.type.toUpperCase());
}
