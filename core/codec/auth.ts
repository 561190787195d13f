/**
 * AUTH (MQTT 5 only): encode and decode. Remaining length 0 means reason
 * code 0 (Success) and no properties (section 3.15.2.1).
 *
 * @module
 */

import type { AuthPacket, ProtocolVersion } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import { readReasonTail, reasonTailLength, typeFail, writeReasonTail } from "./_common.ts";

/**
 * Remaining length of AUTH `p`, validating it.
 *
 * @throws {TypeError} on protocol levels before 5, or naming the invalid field.
 */
export function authRemainingLength(p: AuthPacket, version: ProtocolVersion): number {
  if (version < 5) typeFail("AUTH", "AUTH requires protocolVersion 5");
  return reasonTailLength(p, PacketType.Auth, "AUTH", version, 2);
}

/** Writes AUTH `p` at `pos`; returns the position after it. */
export function writeAuth(p: AuthPacket, buf: Uint8Array, pos: number, remaining: number): number {
  buf[pos++] = PacketType.Auth << 4;
  pos = writeVarint(buf, pos, remaining);
  return writeReasonTail(p, PacketType.Auth, "AUTH", buf, pos, remaining);
}

/**
 * Decodes an AUTH body (the caller has checked the protocol level). The
 * result always carries `reasonCode`.
 *
 * @throws {MqttDecodeError} for a reason code not allowed or bad properties.
 */
export function decodeAuth(r: Reader): AuthPacket {
  const packet = readReasonTail<AuthPacket>(r, PacketType.Auth, 5, { type: "auth" });
  if (
    packet.properties?.authenticationData !== undefined &&
    packet.properties.authenticationMethod === undefined
  ) {
    r.fail("INVALID_PROPERTY", "authenticationData requires authenticationMethod");
  }
  return packet;
}
