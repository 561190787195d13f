// MQTT framing on the hot path: the frame splitter (fixed header and
// remaining length, for every packet type), PUBLISH, the four acks and PING.
// Anything unusual returns a "delegate" result: the host then hands the
// bytes to the TypeScript codec, which produces the packet or the exact
// typed error. Valid common packets never leave wasm.

import {
  R_FLAGS,
  R_FRAME_LENGTH,
  R_HEADER_LENGTH,
  R_PACKET_ID,
  R_PAYLOAD_LENGTH,
  R_PAYLOAD_PTR,
  R_TOPIC_LENGTH,
  R_TOPIC_PTR,
  R_TOPIC_SAME,
  TOPIC_CACHE,
} from "./layout";

const MAX_REMAINING_LENGTH: u32 = 268435455;

// memory.copy is a call out of wasm in V8; short copies are faster inline.
@inline function copyExact(dst: usize, src: usize, n: usize): void {
  if (n > 64) {
    memory.copy(dst, src, n);
    return;
  }
  const end = dst + n;
  while (dst + 8 <= end) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
  }
  while (dst < end) store<u8>(dst++, load<u8>(src++));
}

// Fixed header length (type byte + remaining length bytes) of the last frame found.
let frameHeaderLength: u32 = 0;
// Topic length of the last PUBLISH decoded (with TOPIC_CACHE, to spot repeats).
let topicLength: u32 = 0;

/**
 * Finds the frame starting at `pos` (bytes up to `end`, at least one).
 * Returns its total length, 0 when more bytes are needed, or -1 when the
 * first byte is invalid (type 0, AUTH below MQTT 5, reserved flags
 * [MQTT-2.2.2-2]), the remaining length is malformed [MQTT-1.5.5] (more than
 * 4 bytes, or not minimally encoded) or the packet is larger than `maxSize`.
 */
export function split(pos: usize, end: usize, maxSize: u32, version: u32): i32 {
  const first = <u32>load<u8>(pos);
  const type = first >> 4;
  if (type == 0 || (type == 15 && version < 5)) return -1;
  if (type != 3) {
    const required: u32 = type == 6 || type == 8 || type == 10 ? 2 : 0;
    const flags = version == 3 && required == 2 ? first & 7 : first & 15;
    if (flags != required) return -1;
  }
  let value: u32 = 0;
  let shift: u32 = 0;
  let p = pos + 1;
  while (true) {
    if (p >= end) return 0;
    const b = <u32>load<u8>(p++);
    value |= (b & 0x7f) << shift;
    if ((b & 0x80) == 0) {
      if (b == 0 && shift != 0) return -1; // not minimal
      break;
    }
    shift += 7;
    if (shift == 28) return -1;
  }
  const headerLength = <u32>(p - pos);
  if (<u64>value + headerLength > <u64>maxSize) return -1;
  frameHeaderLength = headerLength;
  store<u32>(R_HEADER_LENGTH, headerLength);
  return <i32>(headerLength + value);
}


// Whether the n bytes at a and b are equal, 8 at a time (memory.compare is a
// byte loop): whole words, then the last 8 bytes (overlapping) when n >= 8.
@inline function sameBytes(a: usize, b: usize, n: usize): bool {
  if (n < 8) {
    for (let i: usize = 0; i < n; i++) if (load<u8>(a + i) != load<u8>(b + i)) return false;
    return true;
  }
  const last = n - 8;
  for (let i: usize = 0; i < last; i += 8) if (load<u64>(a + i) != load<u64>(b + i)) return false;
  return load<u64>(a + last) == load<u64>(b + last);
}

// Checks a topic name: well-formed UTF-8 [MQTT-1.5.4-1], no U+0000
// [MQTT-1.5.4-2], no wildcards [MQTT-3.3.2-2], not empty [MQTT-4.7.3-1].
function validTopic(p: usize, n: usize): bool {
  if (n == 0) return false;
  const end = p + n;
  while (p < end) {
    const c = <u32>load<u8>(p);
    if (c < 0x80) {
      if (c == 0 || c == 0x2b || c == 0x23) return false;
      p++;
      continue;
    }
    if (c < 0xc2) return false;
    if (c < 0xe0) {
      if (p + 2 > end || (load<u8>(p + 1) & 0xc0) != 0x80) return false;
      p += 2;
      continue;
    }
    if (c < 0xf0) {
      if (p + 3 > end) return false;
      const c1 = <u32>load<u8>(p + 1);
      if ((c1 & 0xc0) != 0x80 || (load<u8>(p + 2) & 0xc0) != 0x80) return false;
      if (c == 0xe0 && c1 < 0xa0) return false; // overlong
      if (c == 0xed && c1 >= 0xa0) return false; // surrogate
      p += 3;
      continue;
    }
    if (c > 0xf4 || p + 4 > end) return false;
    const c1 = <u32>load<u8>(p + 1);
    if ((c1 & 0xc0) != 0x80) return false;
    if ((load<u8>(p + 2) & 0xc0) != 0x80 || (load<u8>(p + 3) & 0xc0) != 0x80) return false;
    if (c == 0xf0 && c1 < 0x90) return false; // overlong
    if (c == 0xf4 && c1 >= 0x90) return false; // above U+10FFFF
    p += 4;
  }
  return true;
}

/**
 * Decodes the PUBLISH frame at `p` (`total` bytes). Returns the fixed-header
 * flags (0..15) when the packet is valid and needs no TypeScript help, or -1
 * to delegate (v5 properties present, or anything the TS codec must judge).
 */
export function decodePublish(p: usize, total: u32, version: u32): i32 {
  const flags = <i32>(load<u8>(p) & 15);
  const qos = (flags >> 1) & 3;
  if (qos == 3 || (flags & 0x0e) == 8) return -1; // QoS 3, or DUP on QoS 0
  const end = p + total;
  let q = p + frameHeaderLength;
  if (q + 2 > end) return -1;
  const n = (<u32>load<u8>(q) << 8) | load<u8>(q + 1);
  q += 2;
  if (q + n > end) return -1;
  // A topic equal to the last one decoded was validated then.
  const same = n != 0 && n == topicLength && n <= 256 && sameBytes(q, TOPIC_CACHE, n);
  if (!same && !validTopic(q, n)) return -1;
  const topic = q;
  q += n;
  let packetId: u32 = 0;
  if (qos != 0) {
    if (q + 2 > end) return -1;
    packetId = (<u32>load<u8>(q) << 8) | load<u8>(q + 1);
    if (packetId == 0) return -1;
    q += 2;
  }
  if (version == 5) {
    if (q >= end || load<u8>(q) != 0) return -1; // properties: the TS codec reads them
    q++;
  }
  store<u32>(R_PAYLOAD_PTR, <u32>q);
  store<u32>(R_PAYLOAD_LENGTH, <u32>(end - q));
  store<u32>(R_TOPIC_PTR, <u32>topic);
  store<u32>(R_TOPIC_LENGTH, n);
  store<u32>(R_PACKET_ID, packetId);
  if (!same && n <= 256) memory.copy(TOPIC_CACHE, topic, n);
  store<u32>(R_TOPIC_SAME, same ? 1 : 0);
  topicLength = n;
  return flags;
}

/**
 * Decodes a PUBACK/PUBREC/PUBREL/PUBCOMP frame. Returns -1 to delegate, else
 * the reason code, plus 0x100 when the packet carried one (MQTT 5).
 * Stores the packet id at R_PACKET_ID.
 */
export function decodeAck(p: usize, total: u32, version: u32): i32 {
  const b = load<u8>(p);
  const type = b >> 4;
  if ((b & 15) != (type == 6 ? 2 : 0)) return -1; // [MQTT-2.2.2-2]
  const rl = total - frameHeaderLength;
  const q = p + frameHeaderLength;
  if (rl < 2) return -1;
  const packetId = (<u32>load<u8>(q) << 8) | load<u8>(q + 1);
  if (packetId == 0) return -1;
  store<u32>(R_PACKET_ID, packetId);
  if (rl == 2) return 0;
  if (version != 5 || rl != 3) return -1; // 3.1.1 length or v5 properties: TS decides
  const code = <i32>load<u8>(q + 2);
  if (type == 4 || type == 5) {
    // PUBACK / PUBREC reason codes [MQTT-3.4.2.1], [MQTT-3.5.2.1]
    if (
      code != 0 && code != 0x10 && code != 0x80 && code != 0x83 && code != 0x87 &&
      code != 0x90 && code != 0x91 && code != 0x97 && code != 0x99
    ) return -1;
  } else if (code != 0 && code != 0x92) {
    return -1; // PUBREL / PUBCOMP: Success or Packet Identifier not found
  }
  return code | 0x100;
}

function writeRemainingLength(dst: usize, value: u32): usize {
  do {
    let b = value & 0x7f;
    value >>= 7;
    if (value != 0) b |= 0x80;
    store<u8>(dst++, <u8>b);
  } while (value != 0);
  return dst;
}

/**
 * Writes the head of a PUBLISH (fixed header, topic, packet id, empty v5
 * property block) at `dst`; the payload follows it. `flags` are the low
 * fixed-header bits (dup, qos, retain). Returns the head length or -1 when
 * the packet exceeds the maximum remaining length.
 */
export function encodePublishHead(
  dst: usize,
  topicSrc: usize,
  topicLen: u32,
  payloadLen: u32,
  flags: u32,
  id: u32,
  version: u32,
): i32 {
  const qos = (flags >> 1) & 3;
  const rl = <u64>2 + topicLen + payloadLen + (qos != 0 ? 2 : 0) + (version == 5 ? 1 : 0);
  if (rl > MAX_REMAINING_LENGTH) return -1;
  const start = dst;
  store<u8>(dst++, <u8>(0x30 | flags));
  dst = writeRemainingLength(dst, <u32>rl);
  store<u8>(dst, <u8>(topicLen >> 8));
  store<u8>(dst + 1, <u8>topicLen);
  copyExact(dst + 2, topicSrc, topicLen);
  dst += 2 + topicLen;
  if (qos != 0) {
    store<u8>(dst, <u8>(id >> 8));
    store<u8>(dst + 1, <u8>id);
    dst += 2;
  }
  if (version == 5) store<u8>(dst++, 0);
  return <i32>(dst - start);
}

/**
 * Writes PUBLISH framing around a payload already placed at `payload` so the
 * packet ends where the payload ends: the head goes right before it. Returns
 * the packet start, or 0 when the packet exceeds the maximum remaining length.
 */
export function framePublishBefore(
  payload: usize,
  payloadLen: u32,
  topicSrc: usize,
  topicLen: u32,
  flags: u32,
  id: u32,
  version: u32,
): usize {
  const qos = (flags >> 1) & 3;
  const rl = <u64>2 + topicLen + payloadLen + (qos != 0 ? 2 : 0) + (version == 5 ? 1 : 0);
  if (rl > MAX_REMAINING_LENGTH) return 0;
  const rlBytes: u32 = rl < 128 ? 1 : rl < 16384 ? 2 : rl < 2097152 ? 3 : 4;
  const headLen = 1 + rlBytes + 2 + topicLen + (qos != 0 ? 2 : 0) + (version == 5 ? 1 : 0);
  const start = payload - headLen;
  encodePublishHead(start, topicSrc, topicLen, payloadLen, flags, id, version);
  return start;
}

/** Writes PUBACK/PUBREC/PUBREL/PUBCOMP (`first` = type byte); returns its length. */
export function encodeAck(dst: usize, first: u32, id: u32, reasonCode: i32): i32 {
  store<u8>(dst, <u8>first);
  store<u8>(dst + 2, <u8>(id >> 8));
  store<u8>(dst + 3, <u8>id);
  if (reasonCode < 0) {
    store<u8>(dst + 1, 2);
    return 4;
  }
  store<u8>(dst + 1, 3);
  store<u8>(dst + 4, <u8>reasonCode);
  return 5;
}

/** {@link decodeNext} results. */
export const NEXT_MORE: i32 = 0; // need more bytes
export const NEXT_BAD_HEADER: i32 = -1; // the TS decoder must judge the stream from here
export const NEXT_OTHER: i32 = 1; // a whole frame for the TS codec
export const NEXT_PUBLISH: i32 = 2; // R_FLAGS and the PUBLISH fields are set
export const NEXT_ACK: i32 = 3; // R_FLAGS = reason code (+0x100 when carried), R_PACKET_ID set
export const NEXT_PING: i32 = 4;

/**
 * Splits the next frame at `pos` and decodes it when it is a PUBLISH, an ack
 * or a PING, in one call. R_FRAME_LENGTH holds the frame's length.
 */
export function decodeNext(pos: usize, end: usize, maxSize: u32, version: u32): i32 {
  const total = split(pos, end, maxSize, version);
  store<u32>(R_FRAME_LENGTH, total > 0 ? <u32>total : 0);
  if (total <= 0) return total;
  if (<usize>total > end - pos) return NEXT_MORE;
  const type = load<u8>(pos) >> 4;
  if (type == 3) {
    const flags = decodePublish(pos, total, version);
    if (flags < 0) return NEXT_OTHER;
    store<u32>(R_FLAGS, flags);
    return NEXT_PUBLISH;
  }
  if (type >= 4 && type <= 7) {
    const code = decodeAck(pos, total, version);
    if (code < 0) return NEXT_OTHER;
    store<u32>(R_FLAGS, code);
    return NEXT_ACK;
  }
  if ((type == 12 || type == 13) && total == 2) return NEXT_PING;
  return NEXT_OTHER;
}
