/**
 * DISCONNECT: encode and decode; also the shared reason-code-plus-properties
 * shape used by AUTH.
 *
 * MQTT 5 short forms: remaining length 0 means reason code 0 and no
 * properties; remaining length 1 means a reason code and no properties
 * (sections 3.14.2.1 and 3.14.2.2.1). Before MQTT 5 the packet is empty.
 *
 * @module
 */

import type { AuthPacket, DisconnectPacket, ProtocolVersion } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkReasonCode,
  expectEnd,
  hasProperties,
  propertyBlockSize,
  readReasonCode,
} from "./_common.ts";
import { propertiesLength, writeProperties } from "./properties.ts";
import { readProperties } from "./_read_properties.ts";

/**
 * Remaining length of a DISCONNECT or AUTH packet `p` on `version`.
 * `minWithCode` is the shortest length carrying a non-zero reason code:
 * 1 for DISCONNECT, 2 for AUTH (whose 1-byte form the spec does not define).
 */
export function reasonPacketLength(
  p: DisconnectPacket | AuthPacket,
  typeId: number,
  where: string,
  version: ProtocolVersion,
  minWithCode: number,
): number {
  if (version < 5) return 0;
  const code = p.reasonCode ?? 0;
  checkReasonCode(where, typeId, code, version);
  if (hasProperties(p.properties)) return 1 + propertyBlockSize(p.properties, typeId, where);
  return code === 0 ? 0 : minWithCode;
}

/** Writes a DISCONNECT or AUTH packet; returns the position after it. */
export function writeReasonPacket(
  p: DisconnectPacket | AuthPacket,
  typeId: number,
  where: string,
  buf: Uint8Array,
  pos: number,
  remaining: number,
): number {
  buf[pos++] = typeId << 4;
  pos = writeVarint(buf, pos, remaining);
  if (remaining > 0) buf[pos++] = p.reasonCode ?? 0;
  if (remaining > 1) {
    pos = writeProperties(buf, pos, p.properties, propertiesLength(p.properties, typeId, where));
  }
  return pos;
}

/** Decodes the body of a DISCONNECT or AUTH packet (MQTT 5 layout). */
export function readReasonPacket(
  r: Reader,
  typeId: number,
  version: ProtocolVersion,
): { reasonCode?: number; properties?: NonNullable<DisconnectPacket["properties"]> } {
  const out: { reasonCode?: number; properties?: NonNullable<DisconnectPacket["properties"]> } = {};
  if (version === 5) {
    out.reasonCode = r.left > 0 ? readReasonCode(r, typeId, version) : 0;
    if (r.left > 0) {
      const properties = readProperties(r, typeId);
      if (properties !== undefined) out.properties = properties;
    }
  }
  expectEnd(r);
  return out;
}

/**
 * Remaining length of DISCONNECT `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function disconnectRemainingLength(p: DisconnectPacket, version: ProtocolVersion): number {
  return reasonPacketLength(p, PacketType.Disconnect, "DISCONNECT", version, 1);
}

/** Writes DISCONNECT `p` at `pos`; returns the position after it. */
export function writeDisconnect(
  p: DisconnectPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
): number {
  return writeReasonPacket(p, PacketType.Disconnect, "DISCONNECT", buf, pos, remaining);
}

/**
 * Decodes a DISCONNECT body. On MQTT 5 the result always carries
 * `reasonCode` (0 when omitted); before MQTT 5 the body must be empty.
 *
 * @throws {MqttDecodeError} for a reason code not allowed or trailing bytes.
 */
export function decodeDisconnect(r: Reader, version: ProtocolVersion): DisconnectPacket {
  return { type: "disconnect", ...readReasonPacket(r, PacketType.Disconnect, version) };
}
