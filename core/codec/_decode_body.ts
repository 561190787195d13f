/**
 * The decode dispatch shared by `MqttDecoder` and `decodePacket()`.
 *
 * @module
 */

import type { Packet, ProtocolVersion } from "./types.ts";
import { PacketType } from "./constants.ts";
import type { Reader } from "./_bytes.ts";
import { decodeConnect } from "./connect.ts";
import { decodeConnack } from "./connack.ts";
import { decodePublish } from "./publish.ts";
import { decodeAck } from "./ack.ts";
import { decodeSubscribe } from "./subscribe.ts";
import { decodeSuback } from "./suback.ts";
import { decodeUnsubscribe } from "./unsubscribe.ts";
import { decodeUnsuback } from "./unsuback.ts";
import { decodePing } from "./ping.ts";
import { decodeDisconnect } from "./disconnect.ts";
import { decodeAuth } from "./auth.ts";

/** Decodes a packet body; `r` spans the body, `r.headerAt` the first byte. */
export function decodeBody(r: Reader, byte: number, version: ProtocolVersion): Packet {
  const typeId = byte >> 4;
  switch (typeId) {
    case PacketType.Connect:
      return decodeConnect(r);
    case PacketType.Connack:
      return decodeConnack(r, version);
    case PacketType.Publish:
      return decodePublish(r, byte & 0x0f, version);
    case PacketType.Puback:
    case PacketType.Pubrec:
    case PacketType.Pubrel:
    case PacketType.Pubcomp:
      return decodeAck(r, typeId, version);
    case PacketType.Subscribe:
      return decodeSubscribe(r, version);
    case PacketType.Suback:
      return decodeSuback(r, version);
    case PacketType.Unsubscribe:
      return decodeUnsubscribe(r, version);
    case PacketType.Unsuback:
      return decodeUnsuback(r, version);
    case PacketType.Pingreq:
    case PacketType.Pingresp:
      return decodePing(r, typeId);
    case PacketType.Disconnect:
      return decodeDisconnect(r, version);
    default:
      return decodeAuth(r);
  }
}
