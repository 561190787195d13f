/**
 * The wasm engine's streaming decoder. Frames are split and PUBLISH, acks
 * and PING decoded in wasm; every other packet, and every frame wasm does not
 * accept as plainly valid, goes to the TypeScript codec, so both engines
 * yield equal packets and the same typed errors.
 *
 * Two modes: `push(chunk)` decodes in the shared instance (bytes copied in,
 * a partial packet kept aside), so creating a decoder costs no wasm memory;
 * the first `readBuffer()` gives the decoder its own instance, whose arena a
 * socket reads into directly.
 *
 * @module
 */

import { decodePacket, MqttDecodeError, MqttDecoder } from "../core/codec/mod.ts";
import type {
  AckPacket,
  DecoderOptions,
  Packet,
  PacketDecoder,
  ProtocolVersion,
  PublishPacket,
  QoS,
} from "../core/codec/mod.ts";
import {
  createInstance,
  isTrap,
  R_FLAGS,
  R_FRAME_LENGTH,
  R_PACKET_ID,
  R_PAYLOAD_LENGTH,
  R_PAYLOAD_PTR,
  R_TOPIC_LENGTH,
  R_TOPIC_PTR,
  R_TOPIC_SAME,
  type WasmInstance,
} from "./_instance.ts";
import { encoderContext, TAPE_SIZE } from "./_encode.ts";
import { copyOf } from "../core/_slab.ts";

const MAX_PACKET_SIZE = 268_435_460;
const ACK_TYPES = ["puback", "pubrec", "pubrel", "pubcomp"] as const;
/** Compact the arena when less than this is free behind the buffered bytes. */
const COMPACT_BELOW = 64 * 1024;
const EMPTY = new Uint8Array();
// decodeNext() results (assembly/frame.ts).
const NEXT_MORE = 0;
const NEXT_BAD_HEADER = -1;
const NEXT_PUBLISH = 2;
const NEXT_ACK = 3;
const NEXT_PING = 4;

const utf8 = new TextDecoder("utf-8", { ignoreBOM: true });

/** Puts the packets completed before a fault in front of the error's own. */
function withEarlier(e: unknown, earlier: Packet[]): unknown {
  if (e instanceof MqttDecodeError && earlier.length > 0) e.packets = [...earlier, ...e.packets];
  return e;
}

function shifted(e: unknown, by: number): unknown {
  if (!(e instanceof MqttDecodeError) || by === 0) return e;
  const moved = new MqttDecodeError(e.message, e.code, e.offset + by);
  moved.packets = e.packets;
  if (e.stack !== undefined) moved.stack = e.stack;
  return moved;
}

/**
 * Options of {@linkcode WasmDecoder}: the codec's decoder options plus the
 * zero-copy payload mode.
 *
 * @example
 * ```ts
 * import type { WasmDecoderOptions } from "@tbwasm/sdk/wasm";
 * const options: WasmDecoderOptions = { protocolVersion: 5, payloadViews: true };
 * ```
 */
export interface WasmDecoderOptions extends DecoderOptions {
  /**
   * After `readBuffer()`, PUBLISH payloads are views of the decoder's wasm
   * arena instead of copies: no copy at all, but each payload is only valid
   * until the next `readBuffer()`/`commit()`/`push()` on this decoder. For
   * consumers that handle each message synchronously. (`push()` before the
   * first `readBuffer()` still copies.)
   * @default {false}
   */
  payloadViews?: boolean;
}

/**
 * Streaming MQTT decoder of the wasm engine. Besides {@linkcode PacketDecoder},
 * it lets a socket read straight into wasm memory.
 *
 * @example Reading from a socket without an intermediate buffer
 * ```ts ignore
 * import { wasmCodec } from "@tbwasm/sdk/wasm";
 * const decoder = wasmCodec.createDecoder({ protocolVersion: 5 });
 * const conn = await Deno.connect({ hostname: "127.0.0.1", port: 1883 });
 * const n = await conn.read(decoder.readBuffer());
 * if (n !== null) for (const packet of decoder.commit(n)) console.log(packet.type);
 * ```
 */
export class WasmDecoder implements PacketDecoder {
  #w: WasmInstance;
  #dedicated = false;
  /** Payloads as arena views (dedicated mode only). */
  #views: boolean;
  /** `#views` once dedicated: payloads of the current read are views. */
  #viewPayloads = false;
  /** Arena bounds in `#w`'s memory. */
  #lo: number;
  #hi: number;
  /** Unparsed bytes `[#pos, #end)` in the arena. */
  #pos: number;
  #end: number;
  /** Shared mode: the start of a split packet, kept between pushes. */
  #pending: Uint8Array = EMPTY;
  /** Dedicated mode: the whole arena as one view (returned when it is empty). */
  #whole: Uint8Array | undefined;
  #version: ProtocolVersion;
  #maxPacketSize: number;
  /** Stream offset of `#pos`. */
  #offset = 0;
  /** Bytes fed since the last reset. */
  #received = 0;
  /** A packet larger than the arena, being filled in place (grown as bytes arrive). */
  #big: Uint8Array | undefined;
  #bigFill = 0;
  #bigTotal = 0;
  /** After a malformed header the TS decoder takes over until reset. */
  #ts: MqttDecoder;
  #delegating = false;
  #delegateBase = 0;
  #failed = false;

  /**
   * Creates a decoder (no wasm memory of its own until `readBuffer()`).
   *
   * @param options Protocol level and maximum packet size.
   * @throws {RangeError} for invalid options, like `MqttDecoder`.
   */
  constructor(options: WasmDecoderOptions = {}) {
    this.#ts = new MqttDecoder(options); // validates the options as the TS engine does
    this.#views = options.payloadViews === true;
    this.#version = this.#ts.protocolVersion;
    this.#maxPacketSize = Math.min(options.maxPacketSize ?? MAX_PACKET_SIZE, MAX_PACKET_SIZE);
    const c = encoderContext();
    this.#w = c.w;
    this.#lo = this.#pos = this.#end = c.tape;
    this.#hi = c.tape + TAPE_SIZE;
  }

  /** Protocol level in use; a decoded CONNECT updates it. */
  get protocolVersion(): ProtocolVersion {
    return this.#delegating ? this.#ts.protocolVersion : this.#version;
  }
  set protocolVersion(version: ProtocolVersion) {
    this.#ts.protocolVersion = version; // validates
    this.#version = version;
  }

  /** `true` after a decode error until {@linkcode WasmDecoder.reset}. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Bytes held back waiting for the rest of a packet. */
  get bufferedBytes(): number {
    if (this.#big !== undefined) return this.#bigFill;
    if (this.#delegating) return this.#ts.bufferedBytes;
    return this.#dedicated ? this.#end - this.#pos : this.#pending.length;
  }

  /**
   * A view of free wasm memory to read the next bytes into; then call
   * {@linkcode WasmDecoder.commit} with the count. Valid until the next call
   * on this decoder. The first call gives the decoder its own 2 MiB instance.
   *
   * @returns A non-empty view of writable memory.
   *
   * @example
   * ```ts
   * import { wasmCodec } from "@tbwasm/sdk/wasm";
   * const decoder = wasmCodec.createDecoder();
   * const view = decoder.readBuffer(); // e.g. await conn.read(view)
   * view.set([0xd0, 0x00]);
   * decoder.commit(2); // [{ type: "pingresp" }]
   * ```
   */
  readBuffer(): Uint8Array {
    if (this.#big !== undefined) return this.#bigRoom();
    if (!this.#dedicated) this.#dedicate();
    const u8 = this.#w.u8;
    if (this.#pos === this.#end) {
      this.#pos = this.#end = this.#lo;
      return this.#whole ??= u8.subarray(this.#lo, this.#hi);
    } else if (this.#hi - this.#end < COMPACT_BELOW && this.#pos > this.#lo) {
      u8.copyWithin(this.#lo, this.#pos, this.#end);
      this.#end -= this.#pos - this.#lo;
      this.#pos = this.#lo;
    }
    return u8.subarray(this.#end, this.#hi);
  }

  /**
   * Takes `n` bytes just written into {@linkcode WasmDecoder.readBuffer} and
   * returns the packets they complete.
   *
   * @param n Bytes written.
   * @returns Whole packets, in order.
   * @throws {MqttDecodeError} on malformed input.
   * @throws {TypeError} when called without a prior `readBuffer()`.
   *
   * @example
   * ```ts
   * import { wasmCodec } from "@tbwasm/sdk/wasm";
   * const decoder = wasmCodec.createDecoder();
   * decoder.readBuffer().set([0xc0, 0x00]);
   * decoder.commit(2); // [{ type: "pingreq" }]
   * ```
   */
  commit(n: number): Packet[] {
    if (this.#failed) throw this.#failedError();
    if (!this.#dedicated && this.#big === undefined) {
      throw new TypeError("Cannot commit bytes: call readBuffer() first");
    }
    const out: Packet[] = [];
    this.#received += n;
    try {
      if (this.#big !== undefined) return this.#fillBig(n);
      if (this.#delegating) return this.#toTs(this.#w.u8.slice(this.#end, this.#end + n));
      this.#end += n;
      return this.#drain(out);
    } catch (e) {
      this.#failed = true;
      throw withEarlier(this.#typed(e), out);
    }
  }

  /**
   * Feeds a chunk and returns the packets it completes. Payloads are copies:
   * the chunk may be reused at once.
   *
   * @param chunk Bytes from the network.
   * @returns Whole packets, in order.
   * @throws {MqttDecodeError} on malformed input.
   *
   * @example
   * ```ts
   * import { wasmCodec } from "@tbwasm/sdk/wasm";
   * const decoder = wasmCodec.createDecoder();
   * decoder.push(new Uint8Array([0x40, 0x02])); // [] (waits for the rest)
   * decoder.push(new Uint8Array([0x00, 0x07])); // [{ type: "puback", packetId: 7 }]
   * ```
   */
  push(chunk: Uint8Array): Packet[] {
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Cannot decode packet: chunk must be a Uint8Array");
    }
    if (this.#failed) throw this.#failedError();
    const out: Packet[] = [];
    let rest = chunk;
    try {
      do {
        if (this.#big !== undefined) {
          const room = this.#bigRoom();
          const n = Math.min(room.length, rest.length);
          room.set(rest.subarray(0, n));
          rest = rest.subarray(n);
          for (const p of this.#fillBig(n)) out.push(p);
        } else if (this.#delegating) {
          for (const p of this.#toTs(rest.slice())) out.push(p);
          break;
        } else {
          const target = this.#dedicated ? this.readBuffer() : this.#stage();
          const n = Math.min(target.length, rest.length);
          target.set(n === rest.length ? rest : rest.subarray(0, n));
          rest = rest.subarray(n);
          this.#end += n;
          this.#drain(out);
          if (!this.#dedicated) this.#unstage();
        }
      } while (rest.length > 0);
    } catch (e) {
      this.#failed = true;
      throw withEarlier(this.#typed(e), out);
    } finally {
      this.#received += chunk.length;
    }
    return out;
  }

  /**
   * Drops buffered bytes and the failed state (for a new connection).
   *
   * @example
   * ```ts
   * import { wasmCodec } from "@tbwasm/sdk/wasm";
   * const decoder = wasmCodec.createDecoder();
   * decoder.push(new Uint8Array([0x30]));
   * decoder.reset();
   * decoder.bufferedBytes; // 0
   * ```
   */
  reset(): void {
    this.#pos = this.#end = this.#lo;
    this.#pending = EMPTY;
    this.#offset = 0;
    this.#received = 0;
    this.#big = undefined;
    this.#bigFill = 0;
    this.#delegating = false;
    this.#failed = false;
  }

  /** A wasm trap (a bug, never expected) becomes a typed decode error. */
  #typed(e: unknown): unknown {
    if (!isTrap(e)) return e;
    return new MqttDecodeError(
      `Cannot decode packet: the wasm decoder failed (${(e as Error).message})`,
      "MALFORMED_PACKET",
      this.#offset,
    );
  }

  #failedError(): MqttDecodeError {
    return new MqttDecodeError(
      "Cannot decode packet: the decoder failed earlier and must be reset",
      "DECODER_FAILED",
      this.#received,
    );
  }

  #dedicate(): void {
    const leftover = this.#pending;
    this.#w = createInstance(false);
    this.#dedicated = true;
    this.#viewPayloads = this.#views;
    this.#lo = this.#w.arena;
    this.#hi = this.#w.end;
    this.#w.u8.set(leftover, this.#lo);
    this.#pos = this.#lo;
    this.#end = this.#lo + leftover.length;
    this.#pending = EMPTY;
  }

  /** Shared mode: puts the kept bytes back into the shared arena; returns the free view. */
  #stage(): Uint8Array {
    const u8 = this.#w.u8;
    u8.set(this.#pending, this.#lo);
    this.#pos = this.#lo;
    this.#end = this.#lo + this.#pending.length;
    return u8.subarray(this.#end, this.#hi);
  }

  /** Shared mode: keeps the unparsed tail aside (the arena is reused by others). */
  #unstage(): void {
    this.#pending = this.#pos === this.#end ? EMPTY : this.#w.u8.slice(this.#pos, this.#end);
    this.#pos = this.#end = this.#lo;
  }

  /** Free part of the big buffer, grown (doubling) up to the packet's size. */
  #bigRoom(): Uint8Array {
    let big = this.#big!;
    if (this.#bigFill === big.length) {
      const grown = new Uint8Array(Math.min(this.#bigTotal, big.length * 2));
      grown.set(big);
      this.#big = big = grown;
    }
    return big.subarray(this.#bigFill);
  }

  #fillBig(n: number): Packet[] {
    this.#bigFill += n;
    const frame = this.#big!;
    if (this.#bigFill < this.#bigTotal) return [];
    this.#big = undefined;
    const packet = this.#tsFrame(frame);
    this.#offset += frame.length;
    return [packet];
  }

  #toTs(chunk: Uint8Array): Packet[] {
    try {
      return this.#ts.push(chunk);
    } catch (e) {
      throw shifted(e, this.#delegateBase);
    }
  }

  #drain(out: Packet[]): Packet[] {
    const w = this.#w;
    const next = w.exports.decodeNext;
    const r = w.result;
    const version = this.#version;
    while (this.#end > this.#pos) {
      const pos = this.#pos;
      const kind = next(pos, this.#end, this.#maxPacketSize, version);
      if (kind === NEXT_MORE) {
        const total = r[R_FRAME_LENGTH]!;
        const have = this.#end - pos;
        if (have >= 2 && total > have && total > this.#hi - this.#lo) this.#startBig(pos, total);
        break;
      }
      if (kind === NEXT_BAD_HEADER) {
        this.#delegate(pos, out);
        break;
      }
      const total = r[R_FRAME_LENGTH]!;
      if (kind === NEXT_PUBLISH) {
        out.push(this.#publish(r[R_FLAGS]!));
      } else if (kind === NEXT_ACK) {
        const type = w.u8[pos]! >> 4;
        const packet: AckPacket = { type: ACK_TYPES[type - 4]!, packetId: r[R_PACKET_ID]! };
        if (version === 5) packet.reasonCode = r[R_FLAGS]! & 0xff;
        out.push(packet);
      } else if (kind === NEXT_PING) {
        out.push({ type: w.u8[pos]! >> 4 === 12 ? "pingreq" : "pingresp" });
      } else {
        out.push(this.#tsFrame(w.u8.slice(pos, pos + total)));
        if (this.#version !== version) {
          // A CONNECT switched the level: continue with the new one.
          this.#pos = pos + total;
          this.#offset += total;
          return this.#drain(out);
        }
      }
      this.#pos = pos + total;
      this.#offset += total;
    }
    return out;
  }

  /** Malformed or oversized header: the TS decoder reports it exactly. */
  #delegate(pos: number, out: Packet[]): void {
    this.#delegating = true;
    this.#ts.reset();
    this.#ts.protocolVersion = this.#version;
    this.#delegateBase = this.#offset;
    const rest = this.#w.u8.slice(pos, this.#end);
    this.#pos = this.#end = this.#lo;
    for (const p of this.#toTs(rest)) out.push(p);
  }

  /** A packet larger than the arena: memory follows the bytes that arrive. */
  #startBig(pos: number, total: number): void {
    const have = this.#end - pos;
    this.#big = new Uint8Array(Math.min(total, Math.max(2 * have, 1 << 20)));
    this.#big.set(this.#w.u8.subarray(pos, this.#end));
    this.#bigFill = have;
    this.#bigTotal = total;
    this.#pos = this.#end = this.#lo;
  }

  #publish(flags: number): PublishPacket {
    const w = this.#w;
    const r = w.result;
    let topic = w.topic;
    if (r[R_TOPIC_SAME] === 0 || topic === "") {
      const at = r[R_TOPIC_PTR]!;
      topic = w.topic = utf8.decode(w.u8.subarray(at, at + r[R_TOPIC_LENGTH]!));
    }
    const at = r[R_PAYLOAD_PTR]!;
    const end = at + r[R_PAYLOAD_LENGTH]!;
    const payload = this.#viewPayloads ? w.u8.subarray(at, end) : copyOf(w.u8, at, end);
    const qos = ((flags >> 1) & 3) as QoS;
    const retain = (flags & 1) !== 0;
    const dup = (flags & 8) !== 0;
    // One literal per shape, as the TS codec builds them (no property added later).
    return qos === 0
      ? { type: "publish", topic, payload, qos, retain, dup }
      : { type: "publish", topic, payload, qos, retain, dup, packetId: r[R_PACKET_ID]! };
  }

  /** Decodes one whole frame (an owned copy) with the TS codec. */
  #tsFrame(frame: Uint8Array): Packet {
    try {
      const packet = decodePacket(frame, {
        protocolVersion: this.#version,
        maxPacketSize: this.#maxPacketSize,
      });
      if (packet.type === "connect") this.#version = packet.protocolVersion;
      return packet;
    } catch (e) {
      throw shifted(e, this.#offset);
    }
  }
}
