/**
 * UNSUBACK: encode and decode. Reason codes exist only on MQTT 5.
 *
 * @module
 */

import type { ProtocolVersion, UnsubackPacket } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkPacketId,
  checkReasonCodes,
  expectEnd,
  propertyBlockSize,
  readPacketId,
  readReasonCodes,
  writeIdAndProperties,
} from "./_common.ts";
import { readPropertiesInto } from "./_read_properties.ts";

const WA = "UNSUBACK";

/**
 * Remaining length of UNSUBACK `p` on `version`, validating it. On MQTT 5
 * `reasonCodes` is required (one per topic filter); before it, ignored.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function unsubackRemainingLength(p: UnsubackPacket, version: ProtocolVersion): number {
  checkPacketId(WA, p.packetId);
  if (version < 5) return 2;
  const count = checkReasonCodes(WA, PacketType.Unsuback, p.reasonCodes, version, " on MQTT 5");
  return 2 + count + propertyBlockSize(p.properties, PacketType.Unsuback, WA);
}

/** Writes UNSUBACK `p` at `pos`; returns the position after it. */
export function writeUnsuback(
  p: UnsubackPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = 0xb0;
  pos = writeVarint(buf, pos, remaining);
  pos = writeIdAndProperties(p, PacketType.Unsuback, WA, buf, pos, version);
  if (version === 5) { for (const code of p.reasonCodes!) buf[pos++] = code; }
  return pos;
}

/**
 * Decodes an UNSUBACK body; `reasonCodes` only on MQTT 5.
 *
 * @throws {MqttDecodeError} for a wrong length or a code not allowed.
 */
export function decodeUnsuback(r: Reader, version: ProtocolVersion): UnsubackPacket {
  const packet: UnsubackPacket = { type: "unsuback", packetId: readPacketId(r) };
  if (version === 5) {
    readPropertiesInto(r, PacketType.Unsuback, packet);
    packet.reasonCodes = readReasonCodes(r, PacketType.Unsuback, version);
  }
  expectEnd(r);
  return packet;
}
