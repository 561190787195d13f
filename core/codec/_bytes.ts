/**
 * Byte-level helpers: variable byte integers, big-endian integers and a
 * bounds-checked reader that throws {@linkcode MqttDecodeError}.
 *
 * Writers are plain functions over `(buffer, pos)` returning the new
 * position, so the encoder allocates nothing.
 *
 * @module
 */

import { MqttDecodeError, type MqttDecodeErrorCode } from "./errors.ts";
import { readUtf8 } from "./_utf8.ts";

/** The bytes of `parts`, one after another, in a new array (the only part itself when there is one). */
export function concat(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  let length = 0;
  for (const p of parts) length += p.length;
  const out = new Uint8Array(length);
  let pos = 0;
  for (const p of parts) {
    out.set(p, pos);
    pos += p.length;
  }
  return out;
}

/** Number of bytes of the variable byte integer encoding of `n` (0..268,435,455). */
export function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

/** Writes `n` as a variable byte integer at `pos`; returns the new position. [MQTT-1.5.5-1] */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    buf[pos++] = byte;
  } while (n > 0);
  return pos;
}

/** Writes a big-endian 16-bit integer; returns the new position. */
export function writeU16(buf: Uint8Array, pos: number, n: number): number {
  buf[pos] = n >>> 8;
  buf[pos + 1] = n & 0xff;
  return pos + 2;
}

/** Writes a big-endian 32-bit integer; returns the new position. */
export function writeU32(buf: Uint8Array, pos: number, n: number): number {
  buf[pos] = n >>> 24;
  buf[pos + 1] = (n >>> 16) & 0xff;
  buf[pos + 2] = (n >>> 8) & 0xff;
  buf[pos + 3] = n & 0xff;
  return pos + 4;
}

/** Writes binary data with its 2-byte length prefix; returns the new position. */
export function writeBinary(buf: Uint8Array, pos: number, data: Uint8Array): number {
  pos = writeU16(buf, pos, data.length);
  buf.set(data, pos);
  return pos + data.length;
}

/** Longest topic name remembered by {@linkcode Reader.topic}. */
const TOPIC_CACHE_BYTES = 256;
/** Number of topic names remembered by {@linkcode Reader.topic} (a power of two). */
const TOPIC_CACHE_SLOTS = 4;

/**
 * A bounds-checked cursor over one packet's bytes. `delta` maps buffer
 * positions to stream offsets for error reporting; `name` is the packet name
 * used in messages ("PUBLISH").
 */
export class Reader {
  buf: Uint8Array = new Uint8Array(0);
  pos = 0;
  end = 0;
  delta = 0;
  name = "packet";
  /** Buffer position of the packet's first (fixed header) byte. */
  headerAt = 0;

  /** Points the reader at `buf[pos..end)`. */
  reset(
    buf: Uint8Array,
    headerAt: number,
    pos: number,
    end: number,
    delta: number,
    name: string,
  ) {
    this.buf = buf;
    this.headerAt = headerAt;
    this.pos = pos;
    this.end = end;
    this.delta = delta;
    this.name = name;
  }

  /** Bytes left in the packet. */
  get left(): number {
    return this.end - this.pos;
  }

  /** Throws a decode error at `at` (a buffer position, default the cursor). */
  fail(code: MqttDecodeErrorCode, message: string, at: number = this.pos): never {
    throw new MqttDecodeError(`Cannot decode ${this.name}: ${message}`, code, at + this.delta);
  }

  #need(n: number, what: string) {
    if (this.end - this.pos < n) {
      this.fail("LENGTH_MISMATCH", `${what} runs past the end of the packet`);
    }
  }

  /** Reads one byte. */
  u8(what: string): number {
    this.#need(1, what);
    return this.buf[this.pos++]!;
  }

  /** Reads a big-endian 16-bit integer. */
  u16(what: string): number {
    this.#need(2, what);
    const b = this.buf;
    const v = (b[this.pos]! << 8) | b[this.pos + 1]!;
    this.pos += 2;
    return v;
  }

  /** Reads a big-endian 32-bit integer. */
  u32(what: string): number {
    this.#need(4, what);
    const b = this.buf;
    const p = this.pos;
    this.pos += 4;
    return ((b[p]! << 24) >>> 0) + ((b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!);
  }

  /** Reads a variable byte integer of at most 4 bytes. [MQTT-1.5.5-1] */
  varint(what: string): number {
    const start = this.pos;
    let value = 0;
    let mul = 1;
    for (let i = 0; i < 4; i++) {
      const byte = this.u8(what);
      value += (byte & 0x7f) * mul;
      if ((byte & 0x80) === 0) {
        // [MQTT-1.5.5-1] the minimum number of bytes must be used.
        if (byte === 0 && i > 0) {
          this.fail("MALFORMED_PACKET", `${what} is not minimally encoded`, start);
        }
        return value;
      }
      mul *= 128;
    }
    return this.fail("MALFORMED_PACKET", `${what} is longer than 4 bytes`, start);
  }

  /** Reads a length-prefixed UTF-8 string. [MQTT-1.5.4-1] [MQTT-1.5.4-2] */
  utf8(what: string): string {
    const len = this.u16(what);
    this.#need(len, what);
    const start = this.pos;
    const s = readUtf8(this.buf, start, start + len);
    if (s === undefined) {
      this.fail("INVALID_UTF8", `${what} is not well-formed UTF-8 without U+0000`, start);
    }
    this.pos += len;
    return s;
  }

  /**
   * Reads a length-prefixed UTF-8 topic name, reusing an earlier string when
   * the bytes repeat (streams carry a few topics over and over, e.g.
   * attribute updates between RPC requests), so a repeated topic costs a
   * byte compare instead of a new string. Sets {@linkcode Reader.topicWildcard}
   * (remembered with the cached topic).
   *
   * Up to {@linkcode TOPIC_CACHE_SLOTS} topics of at most
   * {@linkcode TOPIC_CACHE_BYTES} bytes are kept; the last one hit is checked
   * first. A hit needs the same length and every byte equal. Replacement is
   * CLOCK (second chance): a topic hit since the hand last passed survives,
   * so one-off topics (each RPC request has its own id) do not evict the
   * steady ones.
   */
  topic(what: string): string {
    const len = this.u16(what);
    this.#need(len, what);
    const buf = this.buf;
    const start = this.pos;
    const last = this.#lastBytes;
    if (len === this.#lastLength && last !== undefined) {
      let i = 0;
      while (i < len && last[i] === buf[start + i]) i++;
      if (i === len) {
        this.pos += len;
        this.topicWildcard = this.#lastWildcard;
        return this.#lastTopic;
      }
    }
    const cache = this.#topicBytes;
    if (cache !== undefined) {
      const k = this.#findTopic(cache, len, start);
      if (k >= 0) {
        this.#topicUsed[k] = 1;
        this.#use(k);
        this.pos += len;
        this.topicWildcard = this.#lastWildcard;
        return this.#lastTopic;
      }
    }
    const s = readUtf8(buf, start, start + len);
    if (s === undefined) {
      this.fail("INVALID_UTF8", `${what} is not well-formed UTF-8 without U+0000`, start);
    }
    const wildcard = s.includes("+") || s.includes("#");
    this.topicWildcard = wildcard;
    if (len <= TOPIC_CACHE_BYTES) this.#remember(s, len, start, wildcard);
    this.pos += len;
    return s;
  }

  /** Slot other than the last one holding the `len` bytes at `buf[start..]`, or -1. */
  #findTopic(cache: Uint8Array[], len: number, start: number): number {
    const buf = this.buf;
    const lengths = this.#topicLengths;
    for (let k = 0; k < TOPIC_CACHE_SLOTS; k++) {
      if (lengths[k] !== len || k === this.#lastSlot) continue;
      const bytes = cache[k]!;
      let i = 0;
      while (i < len && bytes[i] === buf[start + i]) i++;
      if (i === len) return k;
    }
    return -1;
  }

  /**
   * Caches topic `s` (its `len` bytes at `buf[start..]`) in the slot the CLOCK
   * hand picks; the last slot hit counts as used (its repeated hits set no bit).
   */
  #remember(s: string, len: number, start: number, wildcard: boolean): void {
    const cache = this.#topicBytes ??= Array.from(
      { length: TOPIC_CACHE_SLOTS },
      () => new Uint8Array(TOPIC_CACHE_BYTES),
    );
    const used = this.#topicUsed;
    used[this.#lastSlot] = 1;
    let k = this.#topicHand;
    while (used[k] === 1) {
      used[k] = 0;
      k = (k + 1) & (TOPIC_CACHE_SLOTS - 1);
    }
    this.#topicHand = (k + 1) & (TOPIC_CACHE_SLOTS - 1);
    const bytes = cache[k]!;
    const buf = this.buf;
    for (let i = 0; i < len; i++) bytes[i] = buf[start + i]!;
    this.#topicLengths[k] = len;
    this.#topics[k] = s;
    this.#topicWildcards[k] = wildcard ? 1 : 0;
    this.#use(k);
  }

  /** Makes slot `k` the one checked first. */
  #use(k: number): void {
    this.#lastSlot = k;
    this.#lastLength = this.#topicLengths[k]!;
    this.#lastBytes = this.#topicBytes![k]!;
    this.#lastTopic = this.#topics[k]!;
    this.#lastWildcard = this.#topicWildcards[k] === 1;
  }

  /** Whether the last {@linkcode Reader.topic} result contains `+` or `#`. */
  topicWildcard = false;
  /** Cached topics' bytes, one array of {@linkcode TOPIC_CACHE_BYTES} per slot (allocated on first use). */
  #topicBytes: Uint8Array[] | undefined;
  /** Byte length of each slot's topic, -1 for an empty slot. */
  #topicLengths = new Int32Array(TOPIC_CACHE_SLOTS).fill(-1);
  #topics: string[] = new Array<string>(TOPIC_CACHE_SLOTS).fill("");
  #topicWildcards = new Uint8Array(TOPIC_CACHE_SLOTS);
  /** CLOCK reference bits: 1 when the slot was hit since the hand last passed. */
  #topicUsed = new Uint8Array(TOPIC_CACHE_SLOTS);
  #topicHand = 0;
  /** The slot checked first (the last hit or insert), copied into fields for the fast path. */
  #lastSlot = 0;
  #lastLength = -1;
  #lastBytes: Uint8Array | undefined;
  #lastTopic = "";
  #lastWildcard = false;

  /** Reads length-prefixed binary data. */
  binary(what: string): Uint8Array {
    const len = this.u16(what);
    return this.bytes(len, what);
  }

  /** Reads `len` raw bytes as a view of the buffer (no copy). */
  bytes(len: number, what: string): Uint8Array {
    this.#need(len, what);
    const start = this.pos;
    this.pos += len;
    return this.buf.subarray(start, start + len);
  }
}
