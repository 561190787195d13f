/**
 * UNSUBSCRIBE: encode and decode.
 *
 * @module
 */

import type { ProtocolVersion, UnsubscribePacket } from "./types.ts";
import { PacketType } from "./constants.ts";
import { type Reader, writeVarint } from "./_bytes.ts";
import {
  checkPacketId,
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
import { isValidSharedFilter, isValidTopicFilter } from "./topic.ts";

const W = "UNSUBSCRIBE";

/**
 * Remaining length of UNSUBSCRIBE `p` on `version`, validating it.
 *
 * @throws {TypeError | RangeError} naming the invalid field.
 */
export function unsubscribeRemainingLength(p: UnsubscribePacket, version: ProtocolVersion): number {
  checkPacketId(W, p.packetId);
  const filters = p.topicFilters;
  // [MQTT-3.10.3-2] at least one topic filter.
  if (!Array.isArray(filters) || filters.length === 0) {
    typeFail(W, "topicFilters must be a non-empty array");
  }
  let n = 2;
  if (version === 5) n += propertyBlockSize(p.properties, PacketType.Unsubscribe, W);
  for (let i = 0; i < filters.length; i++) {
    const f = filters[i];
    n += 2 + stringLength(W, `topicFilters[${i}]`, f);
    if (!isValidTopicFilter(f as string) || (version === 5 && !isValidSharedFilter(f as string))) {
      typeFail(W, `topicFilters[${i}] is not a valid topic filter`); // [MQTT-4.7.1-2] [MQTT-4.7.1-3]
    }
  }
  return n;
}

/** Writes UNSUBSCRIBE `p` at `pos`; returns the position after it. */
export function writeUnsubscribe(
  p: UnsubscribePacket,
  buf: Uint8Array,
  pos: number,
  remaining: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = 0xa2; // [MQTT-3.10.1-1]
  pos = writeVarint(buf, pos, remaining);
  pos = writeIdAndProperties(p, PacketType.Unsubscribe, W, buf, pos, version);
  for (const f of p.topicFilters) pos = writeString(buf, pos, f);
  return pos;
}

/**
 * Decodes an UNSUBSCRIBE body.
 *
 * @throws {MqttDecodeError} for no topic filters or an invalid filter.
 */
export function decodeUnsubscribe(r: Reader, version: ProtocolVersion): UnsubscribePacket {
  const packet: UnsubscribePacket = {
    type: "unsubscribe",
    packetId: readPacketId(r),
    topicFilters: [],
  };
  if (version === 5) readPropertiesInto(r, PacketType.Unsubscribe, packet);
  // [MQTT-3.10.3-2] the payload holds at least one topic filter.
  if (r.left === 0) r.fail("MALFORMED_PACKET", "there are no topic filters");
  while (r.left > 0) {
    const at = r.pos;
    const f = r.utf8("topic filter");
    if (!isValidTopicFilter(f) || (version === 5 && !isValidSharedFilter(f))) {
      r.fail("INVALID_TOPIC", `topic filter ${quote(f)} is not valid`, at);
    }
    packet.topicFilters.push(f);
  }
  expectEnd(r);
  return packet;
}
