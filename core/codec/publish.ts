/**
 * PUBLISH: encode and decode. This is the hot path: encoding allocates nothing,
 * and a recently used topic is neither validated nor UTF-8 encoded again
 * (its bytes come from a small cache, see `_topic_cache.ts`). Otherwise
 * sizing walks the topic once and writing walks it once more.
 *
 * @module
 */

import type { Properties, ProtocolVersion, PublishPacket, QoS } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkPacketId,
  checkQos,
  rangeFail,
  readPacketId,
  typeFail,
  writeString,
} from "./_common.ts";
import { propertiesBlockLength, propertiesLength, writeProperties } from "./properties.ts";
import { readProperties } from "./_read_properties.ts";
import { topicNameLength, WILDCARD_IN_NAME } from "./topic.ts";
import { findTopic, rememberTopic, topicLengthAt, writeCachedTopic } from "./_topic_cache.ts";

const W = "PUBLISH";

/** Cache slot of the topic last sized by {@linkcode publishRemainingLength}. */
let topicSlot = -1;
/** Property content length last sized by {@linkcode publishRemainingLength}. */
let propertiesSize = 0;

/**
 * Remaining length of PUBLISH `p` on `version`, validating every field.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function publishRemainingLength(p: PublishPacket, version: ProtocolVersion): number {
  const qos = p.qos;
  if (qos !== 0 && qos !== 1 && qos !== 2) checkQos(W, "qos", qos); // [MQTT-3.3.1-4]
  if (typeof p.retain !== "boolean") typeFail(W, "retain must be a boolean");
  if (typeof p.dup !== "boolean") typeFail(W, "dup must be a boolean");
  if (p.dup && qos === 0) rangeFail(W, "dup must be false for QoS 0"); // [MQTT-3.3.1-2]
  const topic = p.topic;
  if (typeof topic !== "string") typeFail(W, "topic must be a string");
  let slot = findTopic(topic);
  const topicLength = slot >= 0 ? topicLengthAt(slot) : topicNameLength(topic);
  if (topicLength <= 0) {
    if (topicLength === WILDCARD_IN_NAME) {
      typeFail(W, "topic must not contain wildcards"); // [MQTT-3.3.2-2]
    } else if (topicLength < 0) {
      typeFail(W, "topic must be well-formed UTF-16 without U+0000"); // [MQTT-4.7.3-2]
    } else if (version < 5 || p.properties?.topicAlias === undefined) {
      // [MQTT-4.7.3-1]; MQTT 5 allows an empty topic with a Topic Alias.
      rangeFail(
        W,
        `topic must not be empty${version < 5 ? "" : " unless properties.topicAlias is set"}`,
      );
    }
  }
  if (topicLength > 65_535) rangeFail(W, "topic must be at most 65535 UTF-8 bytes");
  if (slot < 0 && topicLength > 0) slot = rememberTopic(topic, topicLength);
  topicSlot = slot;
  const payload = p.payload;
  if (!(payload instanceof Uint8Array)) typeFail(W, "payload must be a Uint8Array");
  let n = 2 + topicLength + payload.length;
  if (qos !== 0) {
    checkPacketId(W, p.packetId, qos); // [MQTT-2.3.1-1]
    n += 2;
  }
  if (version === 5) {
    propertiesSize = propertiesLength(p.properties, PacketType.Publish, W);
    n += propertiesBlockLength(propertiesSize);
  }
  return n;
}

/**
 * Writes PUBLISH `p` (already sized by {@linkcode publishRemainingLength})
 * at `pos`; returns the position after it.
 */
export function writePublish(
  p: PublishPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  const qos = p.qos;
  buf[pos++] = 0x30 | (p.dup ? 0x08 : 0) | (qos << 1) | (p.retain ? 0x01 : 0);
  pos = writeVarint(buf, pos, remaining);
  const topic = p.topic;
  const end = writeCachedTopic(buf, pos, topicSlot, topic);
  pos = end < 0 ? writeString(buf, pos, topic) : end;
  if (qos !== 0) {
    const id = p.packetId!;
    buf[pos++] = id >>> 8;
    buf[pos++] = id & 0xff;
  }
  if (version === 5) pos = writeProperties(buf, pos, p.properties, propertiesSize);
  buf.set(p.payload, pos);
  return pos + p.payload.length;
}

/**
 * Decodes a PUBLISH body. `flags` is the low nibble of the first byte. The
 * payload is a view into the reader's buffer.
 *
 * @throws {MqttDecodeError} for QoS 3, DUP on QoS 0, an invalid topic name,
 * packet identifier 0 or invalid properties.
 */
export function decodePublish(r: Reader, flags: number, version: ProtocolVersion): PublishPacket {
  const qos = (flags >> 1) & 0x03;
  // [MQTT-3.3.1-4] a PUBLISH must not have both QoS bits set.
  if (qos === 3) r.fail("INVALID_QOS", "QoS 3 is not allowed", r.headerAt);
  const dup = (flags & 0x08) !== 0;
  // [MQTT-3.3.1-2] the DUP flag must be 0 for all QoS 0 messages.
  if (dup && qos === 0) r.fail("MALFORMED_PACKET", "DUP must be 0 for QoS 0", r.headerAt);
  const topicAt = r.pos;
  const topic = r.topic("topic name");
  // [MQTT-3.3.2-2] the topic name must not contain wildcard characters.
  if (r.topicWildcard) r.fail("INVALID_TOPIC", "topic name contains wildcards", topicAt);
  const packetId = qos === 0 ? 0 : readPacketId(r);
  let properties: Properties | undefined;
  if (version === 5) properties = readProperties(r, PacketType.Publish);
  if (topic.length === 0 && (version < 5 || properties?.topicAlias === undefined)) {
    // [MQTT-4.7.3-1] topic names are at least one character long; MQTT 5
    // allows an empty topic name with a Topic Alias (MQTT 5 section 3.3.2.1).
    r.fail("INVALID_TOPIC", "topic name is empty", topicAt);
  }
  // The payload is the rest of the packet, so the reader ends exactly there.
  const payload = r.bytes(r.left, "payload");
  const retain = (flags & 0x01) !== 0;
  if (properties === undefined) {
    // One literal per shape: adding packetId later would grow the object.
    return qos === 0
      ? { type: "publish", topic, payload, qos, retain, dup }
      : { type: "publish", topic, payload, qos: qos as QoS, retain, dup, packetId };
  }
  const packet: PublishPacket = { type: "publish", topic, payload, qos: qos as QoS, retain, dup };
  if (qos !== 0) packet.packetId = packetId;
  packet.properties = properties;
  return packet;
}
