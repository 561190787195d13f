/**
 * The streaming decoder, `MqttDecoder`.
 *
 * Bytes arrive in arbitrary chunks. Packets wholly inside a chunk are decoded
 * in place (payloads are views of the chunk). A packet split across chunks is
 * gathered in a buffer of its own, grown as its bytes arrive (never beyond
 * its announced size) and handed to the decoded packet afterwards, so views
 * stay valid. The maximum packet size is checked as soon as the remaining
 * length is known, before anything is buffered.
 *
 * Remaining lengths longer than 4 bytes and non-minimal encodings (a last
 * byte of 0 after a continuation byte) are rejected as
 * MALFORMED_REMAINING_LENGTH [MQTT-1.5.5-1].
 *
 * @module
 */

import type { DecoderOptions, Packet, PacketDecoder, ProtocolVersion } from "./types.ts";
import { MAX_PACKET_SIZE, PACKET_NAME } from "./constants.ts";
import { MqttDecodeError } from "./errors.ts";
import { Reader } from "./_bytes.ts";
import { decodeBody } from "./_decode_body.ts";
import { checkMax, checkVersion, headerRemaining, parseHeader } from "./_header.ts";

const EMPTY = new Uint8Array(0);

/** Initial size of the buffer for a split packet larger than this. */
const INITIAL_SPLIT_CAPACITY = 65_536;

/**
 * Streaming MQTT decoder (the pure-TS engine): push byte chunks, get whole
 * packets. A decoded CONNECT switches the decoder to the protocol level it
 * carries (server side); a client sets {@linkcode MqttDecoder.protocolVersion}
 * itself.
 *
 * @example Decoding a stream split at arbitrary points
 * ```ts
 * import { MqttDecoder } from "@tbwasm/sdk/codec";
 * const decoder = new MqttDecoder({ protocolVersion: 4, maxPacketSize: 1024 });
 * decoder.push(new Uint8Array([0x30, 0x06, 0x00, 0x01])); // [] (waits for the rest)
 * const [p] = decoder.push(new Uint8Array([0x61, 0x68, 0x69, 0x21, 0xd0, 0x00]));
 * console.log(p?.type, decoder.bufferedBytes); // "publish" 0 (the PINGRESP came too)
 * ```
 */
export class MqttDecoder implements PacketDecoder {
  #version: ProtocolVersion;
  #max: number;
  #failed = false;
  /** Stream offset of the next chunk's first byte. */
  #offset = 0;
  /** Bytes of an incomplete fixed header. */
  #hdr = new Uint8Array(5);
  #hdrLen = 0;
  /** Buffer of a split packet (header included), `null` when none. */
  #pending: Uint8Array | null = null;
  #pendingLen = 0;
  #pendingTotal = 0;
  #pendingHeader = 0;
  /** Stream offset of the incomplete packet's first byte. */
  #pendingStart = 0;
  #reader = new Reader();
  /** Packets completed by the current push, `null` while there are none. */
  #out: Packet[] | null = null;

  /**
   * Creates a decoder.
   *
   * @param options Protocol level (default 4) and maximum packet size
   * (default 268,435,460).
   * @throws {RangeError} for an invalid option.
   *
   * @example
   * ```ts
   * import { MqttDecoder } from "@tbwasm/sdk/codec";
   * const decoder = new MqttDecoder({ protocolVersion: 5, maxPacketSize: 65_536 });
   * ```
   */
  constructor(options: DecoderOptions = {}) {
    this.#version = checkVersion(options.protocolVersion ?? 4);
    this.#max = checkMax(options.maxPacketSize ?? MAX_PACKET_SIZE);
  }

  /**
   * Protocol level used for packets other than CONNECT; a decoded CONNECT
   * sets it. Setting it validates the value (3, 4 or 5).
   *
   * @example Falling back to 3.1.1 after the server refused level 5
   * ```ts
   * import { MqttDecoder } from "@tbwasm/sdk/codec";
   * const decoder = new MqttDecoder({ protocolVersion: 5 });
   * decoder.protocolVersion = 4;
   * ```
   */
  get protocolVersion(): ProtocolVersion {
    return this.#version;
  }

  set protocolVersion(v: ProtocolVersion) {
    this.#version = checkVersion(v);
  }

  /**
   * `true` after a decode error until {@linkcode MqttDecoder.reset}.
   *
   * @example
   * ```ts
   * import { MqttDecoder } from "@tbwasm/sdk/codec";
   * const decoder = new MqttDecoder();
   * try {
   *   decoder.push(new Uint8Array([0x00, 0x00]));
   * } catch {
   *   console.log(decoder.failed); // true
   * }
   * ```
   */
  get failed(): boolean {
    return this.#failed;
  }

  /**
   * Bytes held back waiting for the rest of a packet.
   *
   * @example
   * ```ts
   * import { MqttDecoder } from "@tbwasm/sdk/codec";
   * const decoder = new MqttDecoder();
   * decoder.push(new Uint8Array([0x30, 0x05, 0x00]));
   * console.log(decoder.bufferedBytes); // 3
   * ```
   */
  get bufferedBytes(): number {
    return this.#hdrLen + this.#pendingLen;
  }

  /**
   * Drops buffered bytes and the failed state, and restarts stream offsets
   * at 0 (for a new connection). The protocol level is kept.
   *
   * @example
   * ```ts
   * import { MqttDecoder } from "@tbwasm/sdk/codec";
   * const decoder = new MqttDecoder();
   * decoder.push(new Uint8Array([0x30, 0x05]));
   * decoder.reset();
   * console.log(decoder.bufferedBytes); // 0
   * ```
   */
  reset(): void {
    this.#failed = false;
    this.#offset = 0;
    this.#hdrLen = 0;
    this.#pending = null;
    this.#pendingLen = 0;
    this.#pendingTotal = 0;
  }

  /**
   * Feeds a chunk and returns the packets it completes, in order. Payloads
   * may be views of `chunk`: do not modify a chunk after pushing it.
   *
   * @param chunk The next bytes of the stream.
   * @returns The packets completed by this chunk (often none or one).
   * @throws {MqttDecodeError} on malformed input; packets completed earlier
   * in the same chunk are in its `packets` (a server may send a CONNACK
   * refusal followed by a DISCONNECT it should not send). Afterwards every
   * push throws `DECODER_FAILED` until {@linkcode MqttDecoder.reset}.
   *
   * @example
   * ```ts
   * import { MqttDecoder } from "@tbwasm/sdk/codec";
   * const decoder = new MqttDecoder();
   * const packets = decoder.push(new Uint8Array([0x40, 0x02, 0x00, 0x01, 0xd0, 0x00]));
   * console.log(packets); // [ { type: "puback", packetId: 1 }, { type: "pingresp" } ]
   * ```
   */
  push(chunk: Uint8Array): Packet[] {
    if (this.#failed) {
      throw new MqttDecodeError(
        "Cannot decode packet: the decoder failed earlier and must be reset",
        "DECODER_FAILED",
        this.#offset,
      );
    }
    if (!(chunk instanceof Uint8Array)) {
      throw new TypeError("Cannot decode packet: chunk must be a Uint8Array");
    }
    this.#out = null;
    try {
      this.#push(chunk);
      return this.#out ?? [];
    } catch (e) {
      this.#failed = true;
      if (e instanceof MqttDecodeError) e.packets = this.#out ?? [];
      this.#offset += chunk.length; // DECODER_FAILED reports offsets after this chunk
      throw e;
    } finally {
      this.#reader.buf = EMPTY; // do not keep the chunk alive
      this.#out = null;
    }
  }

  /** Adds a decoded packet to the result (a one-packet chunk gets an array of one). */
  #emit(packet: Packet) {
    const out = this.#out;
    if (out === null) this.#out = [packet];
    else out.push(packet);
  }

  #push(chunk: Uint8Array): void {
    const len = chunk.length;
    const base = this.#offset;
    let pos = 0;
    if (this.#hdrLen > 0) {
      // Complete the fixed header from the saved bytes.
      const had = this.#hdrLen;
      const take = Math.min(5 - had, len);
      this.#hdr.set(chunk.subarray(0, take), had);
      this.#hdrLen = had + take;
      const delta = this.#pendingStart;
      const size = parseHeader(this.#hdr, 0, this.#hdrLen, delta, this.#version, this.#max);
      if (size === 0) {
        this.#offset += len;
        return;
      }
      pos = size - had;
      this.#hdrLen = 0;
      if (headerRemaining === 0) {
        this.#emit(this.#decode(this.#hdr, 0, size, size, delta));
      } else {
        this.#startPending(this.#hdr, 0, size, size, headerRemaining, this.#pendingStart);
      }
    }
    if (this.#pending !== null) {
      const n = Math.min(this.#pendingTotal - this.#pendingLen, len - pos);
      this.#grow(this.#pendingLen + n);
      this.#pending.set(chunk.subarray(pos, pos + n), this.#pendingLen);
      this.#pendingLen += n;
      pos += n;
      if (this.#pendingLen < this.#pendingTotal) {
        this.#offset += len;
        return;
      }
      const buf = this.#pending;
      this.#pending = null;
      this.#pendingLen = 0;
      this.#emit(this.#decode(buf, 0, this.#pendingHeader, this.#pendingTotal, this.#pendingStart));
    }
    while (pos < len) {
      const size = parseHeader(chunk, pos, len, base, this.#version, this.#max);
      if (size === 0) {
        this.#hdr.set(chunk.subarray(pos, len), 0);
        this.#hdrLen = len - pos;
        this.#pendingStart = base + pos;
        break;
      }
      const total = size + headerRemaining;
      if (pos + total <= len) {
        this.#emit(this.#decode(chunk, pos, pos + size, pos + total, base));
        pos += total;
      } else {
        this.#startPending(chunk, pos, len - pos, size, headerRemaining, base + pos);
        break;
      }
    }
    this.#offset += len;
  }

  /** Starts gathering a split packet from `src[from..from+have)`. */
  #startPending(
    src: Uint8Array,
    from: number,
    have: number,
    headerSize: number,
    remaining: number,
    streamStart: number,
  ) {
    const total = headerSize + remaining;
    const capacity = total <= INITIAL_SPLIT_CAPACITY
      ? total
      : Math.max(INITIAL_SPLIT_CAPACITY, have);
    this.#pending = new Uint8Array(capacity);
    this.#pending.set(src.subarray(from, from + have), 0);
    this.#pendingLen = have;
    this.#pendingTotal = total;
    this.#pendingHeader = headerSize;
    this.#pendingStart = streamStart;
  }

  /** Grows the split-packet buffer to hold `need` bytes (at most its total). */
  #grow(need: number) {
    const old = this.#pending!;
    if (need <= old.length) return;
    const next = new Uint8Array(Math.min(this.#pendingTotal, Math.max(need, old.length * 2)));
    next.set(old.subarray(0, this.#pendingLen), 0);
    this.#pending = next;
  }

  /** Decodes the packet at `buf[start..end)` whose body starts at `bodyAt`. */
  #decode(buf: Uint8Array, start: number, bodyAt: number, end: number, delta: number): Packet {
    const byte = buf[start]!;
    const r = this.#reader;
    r.reset(buf, start, bodyAt, end, delta, PACKET_NAME[byte >> 4]!);
    const packet = decodeBody(r, byte, this.#version);
    if (packet.type === "connect") this.#version = packet.protocolVersion;
    return packet;
  }
}
