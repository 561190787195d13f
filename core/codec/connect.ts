/**
 * CONNECT: encode and decode for protocol levels 3 ("MQIsdp"), 4 and 5
 * ("MQTT").
 *
 * Level 3 client identifiers: MQTT 3.1 limits them to 1..23 characters, but
 * brokers accept longer ones in practice. The encoder rejects only an empty
 * one on level 3; the decoder accepts any length (refusing an identifier is
 * the server's decision, CONNACK return code 2, not a malformed packet).
 *
 * @module
 */

import type { ConnectPacket, Properties, ProtocolVersion, QoS, Will } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeBinary, writeU16, writeVarint } from "./_bytes.ts";
import {
  binaryLength,
  checkBool,
  checkInt,
  checkQos,
  expectEnd,
  propertyBlockSize,
  quote,
  rangeFail,
  stringLength,
  typeFail,
  writeString,
} from "./_common.ts";
import { propertiesLength, WILL_PROPERTIES, writeProperties } from "./properties.ts";
import { readProperties } from "./_read_properties.ts";
import { isValidTopicName } from "./topic.ts";

const W = "CONNECT";

function checkVersion(v: unknown): asserts v is ProtocolVersion {
  if (v !== 3 && v !== 4 && v !== 5) {
    if (typeof v === "number") rangeFail(W, "protocolVersion must be 3, 4 or 5");
    typeFail(W, "protocolVersion must be 3, 4 or 5");
  }
}

function willLength(will: Will, version: ProtocolVersion): number {
  if (typeof will !== "object" || will === null) typeFail(W, "will must be an object");
  checkQos(W, "will.qos", will.qos);
  checkBool(W, "will.retain", will.retain);
  if (typeof will.topic !== "string" || !isValidTopicName(will.topic)) {
    typeFail(W, "will.topic must be a valid topic name"); // [MQTT-3.1.3-11]
  }
  let n = 4 + stringLength(W, "will.topic", will.topic) +
    binaryLength(W, "will.payload", will.payload);
  if (version === 5) n += propertyBlockSize(will.properties, WILL_PROPERTIES, W);
  return n;
}

/**
 * Remaining length of CONNECT `p` (its own `protocolVersion` applies),
 * validating every field.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function connectRemainingLength(p: ConnectPacket): number {
  const v = p.protocolVersion;
  checkVersion(v);
  checkBool(W, "clean", p.clean);
  checkInt(W, "keepalive", p.keepalive, 0, 65_535);
  let n = v === 3 ? 12 : 10; // protocol name, level, flags, keep alive
  if (v === 5) n += propertyBlockSize(p.properties, PacketType.Connect, W);
  const idLength = stringLength(W, "clientId", p.clientId);
  if (v === 3 && idLength === 0) rangeFail(W, "clientId must not be empty on MQTT 3.1");
  n += 2 + idLength;
  if (p.will !== undefined) n += willLength(p.will, v);
  if (p.username !== undefined) n += 2 + stringLength(W, "username", p.username);
  if (p.password !== undefined) {
    // [MQTT-3.1.2-22] no password without a user name before MQTT 5.
    if (v < 5 && p.username === undefined) {
      typeFail(W, "password requires a username before MQTT 5");
    }
    n += 2 + binaryLength(W, "password", p.password);
  }
  return n;
}

/** Writes CONNECT `p` at `pos`; returns the position after it. */
export function writeConnect(p: ConnectPacket, buf: Uint8Array, pos: number, remaining: number) {
  const v = p.protocolVersion;
  buf[pos++] = 0x10;
  pos = writeVarint(buf, pos, remaining);
  pos = writeString(buf, pos, v === 3 ? "MQIsdp" : "MQTT");
  buf[pos++] = v;
  const will = p.will;
  let flags = p.clean ? 0x02 : 0;
  if (will !== undefined) flags |= 0x04 | (will.qos << 3) | (will.retain ? 0x20 : 0);
  if (p.password !== undefined) flags |= 0x40;
  if (p.username !== undefined) flags |= 0x80;
  buf[pos++] = flags;
  pos = writeU16(buf, pos, p.keepalive);
  if (v === 5) pos = writePropertyBlock(buf, pos, p.properties, PacketType.Connect);
  pos = writeString(buf, pos, p.clientId);
  if (will !== undefined) {
    if (v === 5) pos = writePropertyBlock(buf, pos, will.properties, WILL_PROPERTIES);
    pos = writeString(buf, pos, will.topic);
    pos = writeBinary(buf, pos, will.payload);
  }
  if (p.username !== undefined) pos = writeString(buf, pos, p.username);
  if (p.password !== undefined) pos = writeBinary(buf, pos, p.password);
  return pos;
}

function writePropertyBlock(
  buf: Uint8Array,
  pos: number,
  props: Properties | undefined,
  typeId: number,
): number {
  return writeProperties(buf, pos, props, propertiesLength(props, typeId, W));
}

/**
 * Decodes a CONNECT body; the protocol level comes from the packet itself.
 *
 * @throws {MqttDecodeError} UNSUPPORTED_PROTOCOL for an unknown protocol
 * name or level, MALFORMED_PACKET for reserved or inconsistent flags.
 */
export function decodeConnect(r: Reader): ConnectPacket {
  const nameAt = r.pos;
  const name = r.utf8("protocol name");
  const level = r.u8("protocol level");
  // [MQTT-3.1.2-1] [MQTT-3.1.2-2] "MQTT" with level 4 or 5, "MQIsdp" with level 3.
  if (
    !(name === "MQTT" && (level === 4 || level === 5)) && !(name === "MQIsdp" && level === 3)
  ) {
    r.fail(
      "UNSUPPORTED_PROTOCOL",
      `protocol ${quote(name)} level ${level} is not supported`,
      nameAt,
    );
  }
  const version = level as ProtocolVersion;
  const flagsAt = r.pos;
  const flags = r.u8("connect flags");
  // [MQTT-3.1.2-3] the reserved flag must be 0.
  if ((flags & 0x01) !== 0) r.fail("MALFORMED_PACKET", "reserved connect flag is set", flagsAt);
  const willFlag = (flags & 0x04) !== 0;
  const willQos = (flags >> 3) & 0x03;
  const willRetain = (flags & 0x20) !== 0;
  if (willFlag) {
    // [MQTT-3.1.2-14] (3.1.1) / [MQTT-3.1.2-12] (5.0): Will QoS 3 is malformed.
    if (willQos === 3) r.fail("INVALID_QOS", "Will QoS 3 is not allowed", flagsAt);
  } else if (willQos !== 0 || willRetain) {
    // [MQTT-3.1.2-11] [MQTT-3.1.2-13] [MQTT-3.1.2-15]: no Will QoS or Retain without a Will.
    r.fail("MALFORMED_PACKET", "Will QoS or Will Retain set without the Will flag", flagsAt);
  }
  const hasUsername = (flags & 0x80) !== 0;
  const hasPassword = (flags & 0x40) !== 0;
  if (version < 5 && hasPassword && !hasUsername) {
    // [MQTT-3.1.2-22] no password without a user name before MQTT 5.
    r.fail("MALFORMED_PACKET", "password flag set without the user name flag", flagsAt);
  }
  const keepalive = r.u16("keep alive");
  let properties: Properties | undefined;
  if (version === 5) properties = readProperties(r, PacketType.Connect);
  checkAuthData(r, properties);
  const clientId = r.utf8("client identifier");
  const packet: ConnectPacket = {
    type: "connect",
    protocolVersion: version,
    clientId,
    clean: (flags & 0x02) !== 0,
    keepalive,
  };
  if (willFlag) {
    let willProperties: Properties | undefined;
    if (version === 5) willProperties = readProperties(r, WILL_PROPERTIES);
    const topicAt = r.pos;
    const topic = r.utf8("will topic");
    if (!isValidTopicName(topic)) {
      r.fail("INVALID_TOPIC", "will topic is not a valid topic name", topicAt);
    }
    const will: Will = {
      topic,
      payload: r.binary("will payload"),
      qos: willQos as QoS,
      retain: willRetain,
    };
    if (willProperties !== undefined) will.properties = willProperties;
    packet.will = will;
  }
  if (hasUsername) packet.username = r.utf8("user name");
  if (hasPassword) packet.password = r.binary("password");
  if (properties !== undefined) packet.properties = properties;
  expectEnd(r);
  return packet;
}

/** Authentication Data without an Authentication Method is a protocol error (MQTT 5 3.1.2.11.10). */
export function checkAuthData(r: Reader, props: Properties | undefined) {
  if (props?.authenticationData !== undefined && props.authenticationMethod === undefined) {
    r.fail("INVALID_PROPERTY", "authenticationData requires authenticationMethod");
  }
}
