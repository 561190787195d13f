/**
 * CONNACK: encode and decode. On levels 3 and 4 `reasonCode` is the connect
 * return code (0..5); on level 5 it is a reason code from the CONNACK table.
 *
 * A level-5 decoder also accepts a 2-byte CONNACK without a property block
 * whose code is a 3.1.1 refusal (1..5): that is how servers without MQTT 5
 * refuse a level-5 CONNECT (return code 1, "unacceptable protocol version"),
 * and the client needs to read it to fall back to 3.1.1. A 2-byte success
 * stays malformed on level 5 (its property length is missing).
 *
 * @module
 */

import type { ConnackPacket, ProtocolVersion } from "./types.ts";
import { isAllowedReasonCode, PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import { checkBool, checkReasonCode, expectEnd, propertyBlockSize, typeFail } from "./_common.ts";
import { propertiesLength, writeProperties } from "./properties.ts";
import { readProperties } from "./_read_properties.ts";
import { checkAuthData } from "./connect.ts";

const W = "CONNACK";

/**
 * Remaining length of CONNACK `p` on `version`, validating every field.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function connackRemainingLength(p: ConnackPacket, version: ProtocolVersion): number {
  checkBool(W, "sessionPresent", p.sessionPresent);
  checkReasonCode(W, PacketType.Connack, p.reasonCode, version);
  // [MQTT-3.2.2-4] (3.1.1) [MQTT-3.2.2-6] (5.0): no session on a refusal.
  if (p.sessionPresent && p.reasonCode !== 0) {
    typeFail(W, "sessionPresent must be false when reasonCode is not 0");
  }
  return version === 5 ? 2 + propertyBlockSize(p.properties, PacketType.Connack, W) : 2;
}

/** Writes CONNACK `p` at `pos`; returns the position after it. */
export function writeConnack(
  p: ConnackPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = 0x20;
  pos = writeVarint(buf, pos, remaining);
  buf[pos++] = p.sessionPresent ? 1 : 0;
  buf[pos++] = p.reasonCode;
  if (version === 5) {
    const len = propertiesLength(p.properties, PacketType.Connack, W);
    pos = writeProperties(buf, pos, p.properties, len);
  }
  return pos;
}

/**
 * Decodes a CONNACK body.
 *
 * @throws {MqttDecodeError} for reserved acknowledge flags, a reason code
 * not allowed, or a session on a refusal.
 */
export function decodeConnack(r: Reader, version: ProtocolVersion): ConnackPacket {
  const flagsAt = r.pos;
  const flags = r.u8("acknowledge flags");
  // [MQTT-3.2.2-1] bits 7-1 of the acknowledge flags are reserved.
  if ((flags & 0xfe) !== 0) {
    r.fail("MALFORMED_PACKET", "reserved acknowledge flags are set", flagsAt);
  }
  const codeAt = r.pos;
  const code = r.u8("reason code");
  // A 3.1.1-style refusal of a level-5 CONNECT: 2 bytes, return code 1..5.
  const legacy = version === 5 && r.left === 0 && code >= 1 && code <= 5;
  const allowed = legacy || isAllowedReasonCode(PacketType.Connack, code, version);
  if (!allowed) {
    r.fail("INVALID_REASON_CODE", `reason code 0x${code.toString(16)} is not allowed`, codeAt);
  }
  const sessionPresent = (flags & 0x01) !== 0;
  if (sessionPresent && code !== 0) {
    // [MQTT-3.2.2-4] (3.1.1) [MQTT-3.2.2-6] (5.0)
    r.fail("MALFORMED_PACKET", "session present on a refused connection", flagsAt);
  }
  const packet: ConnackPacket = { type: "connack", sessionPresent, reasonCode: code };
  if (version === 5 && !legacy) {
    const properties = readProperties(r, PacketType.Connack);
    checkAuthData(r, properties);
    if (properties !== undefined) packet.properties = properties;
  }
  expectEnd(r);
  return packet;
}
