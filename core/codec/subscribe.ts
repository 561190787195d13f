/**
 * SUBSCRIBE: encode and decode.
 *
 * @module
 */

import type { ProtocolVersion, QoS, SubscribePacket, Subscription } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkBool,
  checkInt,
  checkPacketId,
  checkQos,
  expectEnd,
  propertyBlockSize,
  quote,
  readPacketId,
  stringLength,
  typeFail,
  writeIdAndProperties,
  writeString,
} from "./_common.ts";
import { readPropertiesInto } from "./_read_properties.ts";
import { isSharedFilter, isValidSharedFilter, isValidTopicFilter } from "./topic.ts";

const W = "SUBSCRIBE";

/**
 * Remaining length of SUBSCRIBE `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function subscribeRemainingLength(p: SubscribePacket, version: ProtocolVersion): number {
  checkPacketId(W, p.packetId);
  const subs = p.subscriptions;
  // [MQTT-3.8.3-3] (3.1.1) [MQTT-3.8.3-2] (5.0): at least one subscription.
  if (!Array.isArray(subs) || subs.length === 0) {
    typeFail(W, "subscriptions must be a non-empty array");
  }
  let n = 2;
  if (version === 5) n += propertyBlockSize(p.properties, PacketType.Subscribe, W);
  for (let i = 0; i < subs.length; i++) {
    const s = subs[i]!;
    const f = `subscriptions[${i}]`;
    n += 3 + stringLength(W, `${f}.topicFilter`, s.topicFilter);
    if (!isValidTopicFilter(s.topicFilter)) {
      typeFail(W, `${f}.topicFilter is not a valid topic filter`); // [MQTT-4.7.1-2] [MQTT-4.7.1-3]
    }
    checkQos(W, `${f}.qos`, s.qos);
    if (version === 5) {
      if (s.noLocal !== undefined) checkBool(W, `${f}.noLocal`, s.noLocal);
      if (s.retainAsPublished !== undefined) {
        checkBool(W, `${f}.retainAsPublished`, s.retainAsPublished);
      }
      if (s.retainHandling !== undefined) {
        checkInt(W, `${f}.retainHandling`, s.retainHandling, 0, 2);
      }
      if (isSharedFilter(s.topicFilter)) {
        if (!isValidSharedFilter(s.topicFilter)) {
          typeFail(W, `${f}.topicFilter is not a valid shared subscription`); // [MQTT-4.8.2-1]
        }
        if (s.noLocal) typeFail(W, `${f}.noLocal must not be set on a shared subscription`); // [MQTT-3.8.3-4]
      }
    }
  }
  return n;
}

/** Writes SUBSCRIBE `p` at `pos`; returns the position after it. */
export function writeSubscribe(
  p: SubscribePacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = 0x82; // [MQTT-3.8.1-1]
  pos = writeVarint(buf, pos, remaining);
  pos = writeIdAndProperties(p, PacketType.Subscribe, W, buf, pos, version);
  for (const s of p.subscriptions) {
    pos = writeString(buf, pos, s.topicFilter);
    let options: number = s.qos;
    if (version === 5) {
      if (s.noLocal) options |= 0x04;
      if (s.retainAsPublished) options |= 0x08;
      options |= (s.retainHandling ?? 0) << 4;
    }
    buf[pos++] = options;
  }
  return pos;
}

/**
 * Decodes a SUBSCRIBE body. On MQTT 5 every subscription carries
 * `noLocal`, `retainAsPublished` and `retainHandling`.
 *
 * @throws {MqttDecodeError} for no subscriptions, invalid filters, reserved
 * option bits or QoS 3.
 */
export function decodeSubscribe(r: Reader, version: ProtocolVersion): SubscribePacket {
  const packetId = readPacketId(r);
  const packet: SubscribePacket = { type: "subscribe", packetId, subscriptions: [] };
  if (version === 5) readPropertiesInto(r, PacketType.Subscribe, packet);
  // [MQTT-3.8.3-3] (3.1.1) [MQTT-3.8.3-2] (5.0): at least one subscription.
  if (r.left === 0) r.fail("MALFORMED_PACKET", "there are no subscriptions");
  while (r.left > 0) {
    const filterAt = r.pos;
    const topicFilter = r.utf8("topic filter");
    // [MQTT-4.7.1-2] [MQTT-4.7.1-3] [MQTT-4.7.3-1]
    if (!isValidTopicFilter(topicFilter)) {
      r.fail("INVALID_TOPIC", `topic filter ${quote(topicFilter)} is not valid`, filterAt);
    }
    const optionsAt = r.pos;
    const options = r.u8("subscription options");
    const qos = options & 0x03;
    // [MQTT-3-8.3-4] (3.1.1) / [MQTT-3.8.3-5] (5.0): reserved bits must be 0.
    const reserved = version === 5 ? 0xc0 : 0xfc;
    if ((options & reserved) !== 0) {
      r.fail("MALFORMED_PACKET", "reserved subscription option bits are set", optionsAt);
    }
    if (qos === 3) r.fail("INVALID_QOS", "QoS 3 is not allowed", optionsAt);
    const sub: Subscription = { topicFilter, qos: qos as QoS };
    if (version === 5) {
      const retainHandling = (options >> 4) & 0x03;
      if (retainHandling === 3) {
        r.fail("MALFORMED_PACKET", "retain handling 3 is not allowed", optionsAt);
      }
      sub.noLocal = (options & 0x04) !== 0;
      sub.retainAsPublished = (options & 0x08) !== 0;
      sub.retainHandling = retainHandling as 0 | 1 | 2;
      if (isSharedFilter(topicFilter)) {
        if (!isValidSharedFilter(topicFilter)) {
          r.fail("INVALID_TOPIC", "shared subscription is not valid", filterAt); // [MQTT-4.8.2-1]
        }
        if (sub.noLocal) {
          r.fail("MALFORMED_PACKET", "no local set on a shared subscription", optionsAt); // [MQTT-3.8.3-4]
        }
      }
    }
    packet.subscriptions.push(sub);
  }
  expectEnd(r);
  return packet;
}
