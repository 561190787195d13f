/**
 * DISCONNECT: encode and decode.
 *
 * MQTT 5 short forms: remaining length 0 means reason code 0 and no
 * properties; remaining length 1 means a reason code and no properties
 * (sections 3.14.2.1 and 3.14.2.2.1). Before MQTT 5 the packet is empty.
 *
 * @module
 */

import type { DisconnectPacket, ProtocolVersion } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import { readReasonTail, reasonTailLength, writeReasonTail } from "./_common.ts";

/**
 * Remaining length of DISCONNECT `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function disconnectRemainingLength(p: DisconnectPacket, version: ProtocolVersion): number {
  return reasonTailLength(p, PacketType.Disconnect, "DISCONNECT", version, 1);
}

/** Writes DISCONNECT `p` at `pos`; returns the position after it. */
export function writeDisconnect(
  p: DisconnectPacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
): number {
  buf[pos++] = PacketType.Disconnect << 4;
  pos = writeVarint(buf, pos, remaining);
  return writeReasonTail(p, PacketType.Disconnect, "DISCONNECT", buf, pos, remaining);
}

/**
 * Decodes a DISCONNECT body. On MQTT 5 the result always carries
 * `reasonCode` (0 when omitted); before MQTT 5 the body must be empty.
 *
 * @throws {MqttDecodeError} for a reason code not allowed or trailing bytes.
 */
export function decodeDisconnect(r: Reader, version: ProtocolVersion): DisconnectPacket {
  return readReasonTail<DisconnectPacket>(r, PacketType.Disconnect, version, {
    type: "disconnect",
  });
}
