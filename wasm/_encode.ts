/**
 * Encoding on the shared instance: PUBLISH (fixed header, topic, packet id
 * and empty v5 property block framed in wasm) and the four acks. Packets the
 * fast path does not cover (properties, invalid fields, other types) go to
 * the TS codec, which also throws the canonical TypeError/RangeError.
 *
 * @module
 */

import { tsCodec } from "../core/codec/mod.ts";
import type { AckPacket, EncodeOptions, Packet, PublishPacket } from "../core/codec/mod.ts";
import { OutboundArena, type OutboundBytes, ownedBytes } from "./_arena.ts";
import { R_FRAME_LENGTH, sharedInstance, type WasmInstance } from "./_instance.ts";
import { allocate, copyOf } from "../core/_slab.ts";

/**
 * Tape (input) region size at the start of the shared arena. Then come the
 * registered-key table (64 KiB, assembly/layout.ts) and the outbound ring.
 */
export const TAPE_SIZE = 448 * 1024;
const RING_OFFSET = 512 * 1024;
/** The JSON writers' result code for a non-finite number (assembly/json.ts). */
export const ERR_NON_FINITE = -2;

const encoder = new TextEncoder();
const UNUSUAL_TOPIC = /[+#\0]/;
const ACK_FIRST = { puback: 0x40, pubrec: 0x50, pubrel: 0x62, pubcomp: 0x70 } as const;
const ACK_CODES: Record<string, ReadonlySet<number>> = {
  puback: new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  pubrec: new Set([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]),
  pubrel: new Set([0x00, 0x92]),
  pubcomp: new Set([0x00, 0x92]),
};

/** Size of the registered-key fragment region (assembly/layout.ts KEY_DATA). */
export const KEY_DATA_SIZE = 56 * 1024;

/**
 * The registered-key fragment region of the shared instance: the tape's key
 * cache fills it from the bottom (`used`), batches' key blocks from the top
 * (`top`); neither frees.
 */
export interface KeyRegion {
  /** Bytes used from the bottom. */
  used: number;
  /** Offset of the lowest byte used from the top. */
  top: number;
}

/** The shared instance with its topic cache and outbound ring. */
export interface EncoderContext {
  w: WasmInstance;
  arena: OutboundArena;
  /** Address of the input tape. */
  tape: number;
  topic: string;
  topicLength: number;
  /** Address of the registered-key region. */
  keyData: number;
  keys: KeyRegion;
}

let context: EncoderContext | undefined;

/** The process-wide encoder context (created on first use). */
export function encoderContext(): EncoderContext {
  if (context === undefined) {
    const w = sharedInstance();
    context = {
      w,
      arena: new OutboundArena(w.u8, w.arena + RING_OFFSET, w.end),
      tape: w.arena,
      topic: "",
      topicLength: -1,
      keyData: w.exports.KEY_DATA.value,
      keys: { used: 0, top: KEY_DATA_SIZE },
    };
  }
  return context;
}

/**
 * The PUBLISH a fused wasm call framed at `start` (its length in
 * R_FRAME_LENGTH): leased in the outbound ring, or copied out.
 */
export function takeFrame(
  c: EncoderContext,
  start: number,
  lease: boolean,
): OutboundBytes | Uint8Array {
  const end = start + c.w.result[R_FRAME_LENGTH]!;
  return lease ? c.arena.take(start, end) : copyOf(c.w.u8, start, end);
}

/**
 * Puts a topic name's UTF-8 bytes in the scratch area (cached by string).
 *
 * @returns The byte length, or -1 when the topic needs the TS codec's judgement.
 */
export function stageTopic(c: EncoderContext, topic: string): number {
  if (topic === c.topic) return c.topicLength;
  if (
    typeof topic !== "string" || topic.length === 0 || topic.length > 16_384 ||
    UNUSUAL_TOPIC.test(topic) || !topic.isWellFormed()
  ) return -1;
  const w = c.w;
  const { written } = encoder.encodeInto(
    topic,
    w.u8.subarray(w.scratch, w.scratch + w.scratchSize),
  );
  if (written > 65_535) return -1;
  c.topic = topic;
  c.topicLength = written;
  return written;
}

/**
 * Fixed-header flags when the fields are plainly valid, else -1 (the TS
 * codec then throws the canonical error). Shared with core/telemetry.
 */
export function fixedFlags(
  qos: unknown,
  retain: unknown,
  dup: unknown,
  packetId: unknown,
  version: number,
): number {
  if (qos !== 0 && qos !== 1 && qos !== 2) return -1;
  if (typeof retain !== "boolean" || typeof dup !== "boolean" || (dup && qos === 0)) return -1;
  if (version !== 3 && version !== 4 && version !== 5) return -1;
  if (
    qos !== 0 &&
    (typeof packetId !== "number" || !(packetId >= 1 && packetId <= 65_535) || packetId % 1 !== 0)
  ) return -1;
  return (dup ? 8 : 0) | (qos << 1) | (retain ? 1 : 0);
}

/** Fixed-header flags for a PUBLISH the fast path covers, else -1. */
function publishFlags(p: PublishPacket, version: number): number {
  if (p.properties !== undefined) return -1;
  return fixedFlags(p.qos, p.retain, p.dup, p.packetId, version);
}

/**
 * Frames a covered PUBLISH's head (fixed header, topic, packet id, v5
 * property block) at the tape.
 *
 * @returns The head length, or -1 when the TS codec must encode the packet.
 */
function publishHead(c: EncoderContext, p: PublishPacket, version: number): number {
  const flags = publishFlags(p, version);
  const topicLength = flags < 0 ? -1 : stageTopic(c, p.topic);
  if (topicLength < 0 || !(p.payload instanceof Uint8Array)) return -1;
  const w = c.w;
  const head = w.exports.encodePublishHead(
    c.tape,
    w.scratch,
    topicLength,
    p.payload.length,
    flags,
    p.packetId ?? 0,
    version,
  );
  return head > 0 ? head : -1;
}

function ackCovered(p: AckPacket, version: number): boolean {
  const id = p.packetId;
  if (typeof id !== "number" || !(id >= 1 && id <= 65_535) || id % 1 !== 0) return false;
  if (p.properties !== undefined) return false;
  return version < 5 || p.reasonCode === undefined || ACK_CODES[p.type]!.has(p.reasonCode);
}

/**
 * Encodes `packet` into `buffer` at `offset` through wasm when covered.
 *
 * @returns Bytes written.
 */
export function encodeIntoWasm(
  packet: Packet,
  buffer: Uint8Array,
  offset: number,
  options?: EncodeOptions,
): number {
  const version = options?.protocolVersion ?? 4;
  const c = encoderContext();
  const w = c.w;
  if (packet.type === "publish" && buffer instanceof Uint8Array) {
    const head = publishHead(c, packet, version);
    const payload = packet.payload;
    if (head > 0 && offset >= 0 && offset + head + payload.length <= buffer.length) {
      buffer.set(w.u8.subarray(c.tape, c.tape + head), offset);
      buffer.set(payload, offset + head);
      return head + payload.length;
    }
  } else if (packet.type in ACK_FIRST && ackCovered(packet as AckPacket, version)) {
    const ack = packet as AckPacket;
    const code = version === 5 && ack.reasonCode !== undefined && ack.reasonCode !== 0
      ? ack.reasonCode
      : -1;
    const n = w.exports.encodeAck(c.tape, ACK_FIRST[ack.type], ack.packetId, code);
    if (offset >= 0 && offset + n <= buffer.length) {
      buffer.set(w.u8.subarray(c.tape, c.tape + n), offset);
      return n;
    }
  }
  return tsCodec.encodeInto(packet, buffer, offset, options);
}

/**
 * Builds a PUBLISH in the outbound arena: topic framed by wasm, payload
 * copied once. Falls back to an owned TS-encoded copy when not covered.
 *
 * @returns The packet bytes and their release.
 */
export function encodeOutboundWasm(packet: Packet, options?: EncodeOptions): OutboundBytes {
  const version = options?.protocolVersion ?? 4;
  const c = encoderContext();
  if (packet.type === "publish") {
    const flags = publishFlags(packet, version);
    const topicLength = flags < 0 ? -1 : stageTopic(c, packet.topic);
    const payload = packet.payload;
    if (topicLength >= 0 && payload instanceof Uint8Array) {
      const size = payload.length + topicLength + 10;
      const at = c.arena.reserve(size);
      if (at >= 0) {
        const w = c.w;
        const payloadAt = at + topicLength + 10;
        w.u8.set(payload, payloadAt);
        const start = w.exports.framePublishBefore(
          payloadAt,
          payload.length,
          w.scratch,
          topicLength,
          flags,
          packet.packetId ?? 0,
          version,
        );
        if (start > 0) return c.arena.take(start, payloadAt + payload.length);
      }
    }
  }
  return ownedBytes(tsCodec.encode(packet, options));
}

/**
 * Encodes `packet` into a new array, framing covered PUBLISH packets in wasm.
 *
 * @returns The packet bytes (owned).
 */
export function encodeWasm(packet: Packet, options?: EncodeOptions): Uint8Array {
  if (packet.type === "publish") {
    const c = encoderContext();
    const head = publishHead(c, packet, options?.protocolVersion ?? 4);
    if (head > 0) {
      const payload = packet.payload;
      const bytes = allocate(head + payload.length);
      for (let i = 0; i < head; i++) bytes[i] = c.w.u8[c.tape + i]!;
      bytes.set(payload, head);
      return bytes;
    }
    return tsCodec.encode(packet, options);
  }
  const bytes = new Uint8Array(tsCodec.encodedLength(packet, options));
  encodeIntoWasm(packet, bytes, 0, options);
  return bytes;
}
