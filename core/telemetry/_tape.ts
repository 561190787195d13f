/**
 * Walks a telemetry value once and writes it as a tape for the wasm JSON
 * writer (see wasm/assembly/json.ts): structure, keys and strings as UTF-8,
 * numbers as f64. Returns -1 ("use the TS path") for anything the fast path
 * does not represent exactly: values with `toJSON`, boxed primitives, class
 * instances, invalid values and shapes (the TS path then throws the
 * canonical error), or a tape that would not fit.
 *
 * @module
 */

import type { KeyRegion } from "../../wasm/_encode.ts";

const OP_END = 0;
const OP_OBJ = 1;
const OP_OBJ_END = 2;
const OP_ARR = 3;
const OP_ARR_END = 4;
const OP_KEY = 5;
const OP_NUM = 6;
const OP_STR = 7;
const OP_TRUE = 8;
const OP_FALSE = 9;
const OP_NULL = 10;
const OP_RAW = 11;
/** A key with lone surrogates: copied verbatim (already quoted, with ":"). */
const OP_RAW_KEY = 12;
const OP_KEY_ID = 13;

/** Registered keys: at most this many, each at most KEY_MAX_LENGTH chars. */
const KEY_SLOTS = 2048;
const KEY_MAX_LENGTH = 64;
/** Positions remembered by the same-shape shortcut (16 per depth, 4 depths). */
const RECENT = 64;

const MAX_DEPTH = 64;
const encoder = new TextEncoder();
const objectProto = Object.prototype;
const EMPTY = {};

/** The tape writer's state: memory view and bounds. */
export class Tape {
  #u8: Uint8Array;
  #view: DataView;
  #start: number;
  #limit: number;
  #pos = 0;
  /** Output bytes of the registered keys referenced by the last tape (beyond 6 per tape byte). */
  #keyBytes = 0;
  #keyLengths = new Int32Array(KEY_SLOTS);
  /** Keys whose `"key":` fragment wasm holds, by id (a shared, bounded cache). */
  #keys = new Map<string, number>();
  #keyIndex: number;
  #keyData: number;
  #region: KeyRegion;
  /** The keys last seen at each position of an object, with their ids. */
  #recent: (string | undefined)[] = new Array<string | undefined>(RECENT).fill(undefined);
  #recentIds = new Int32Array(RECENT);

  /**
   * @param u8 View of the instance's memory.
   * @param start Tape address.
   * @param size Tape capacity in bytes.
   * @param keyIndex Address of the registered-key index.
   * @param keyData Address of the registered-key fragments.
   * @param region Allocation state of the fragment region (shared with batches).
   */
  constructor(
    u8: Uint8Array,
    start: number,
    size: number,
    keyIndex: number,
    keyData: number,
    region: KeyRegion,
  ) {
    this.#u8 = u8;
    this.#view = new DataView(u8.buffer);
    this.#start = start;
    this.#limit = start + size - 16;
    this.#keyIndex = keyIndex;
    this.#keyData = keyData;
    this.#region = region;
  }

  /**
   * Writes telemetry (a flat object, a `{ts, values}` entry, or an array of
   * those) and the end mark.
   *
   * @returns Tape length, or -1 to use the TS path.
   */
  writeTelemetry(data: unknown): number {
    for (const _ in EMPTY) return -1; // an enumerable Object.prototype property: for-in would see it
    this.#pos = this.#start;
    this.#keyBytes = 0;
    let ok: boolean;
    if (Array.isArray(data)) {
      ok = this.#byte(OP_ARR);
      for (let i = 0; ok && i < data.length; i++) ok = this.#entry(data[i]);
      ok &&= this.#byte(OP_ARR_END);
    } else {
      ok = this.#entry(data);
    }
    if (!ok || !this.#byte(OP_END)) return -1;
    return this.#pos - this.#start;
  }

  /** Output bytes of the registered keys in the last tape, to add to its output bound. */
  get keyBytes(): number {
    return this.#keyBytes;
  }

  /** One object or `{ts, values}` entry, as core/payload.ts validates it. */
  #entry(value: unknown): boolean {
    if (!isPlain(value)) return false;
    const o = value as Record<string, unknown>;
    if ("ts" in o && "values" in o) {
      const keys = Object.keys(o);
      if (keys.length !== 2) return false;
      const ts = o.ts;
      if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) return false;
      if (!isPlain(o.values)) return false;
    }
    return this.#value(o, 0);
  }

  #value(v: unknown, depth: number): boolean {
    switch (typeof v) {
      case "number":
        if (this.#pos + 9 > this.#limit) return false;
        this.#u8[this.#pos] = OP_NUM;
        this.#view.setFloat64(this.#pos + 1, v, true);
        this.#pos += 9;
        return true;
      case "string":
        return this.#string(OP_STR, v);
      case "boolean":
        return this.#byte(v ? OP_TRUE : OP_FALSE);
      case "object":
        break;
      default:
        return false;
    }
    if (v === null) return this.#byte(OP_NULL);
    if (depth >= MAX_DEPTH) return false;
    if (Array.isArray(v)) {
      if (Object.getPrototypeOf(v) !== Array.prototype || "toJSON" in v) return false;
      if (!this.#byte(OP_ARR)) return false;
      for (let i = 0; i < v.length; i++) {
        if (!this.#value(v[i], depth + 1)) return false;
      }
      return this.#byte(OP_ARR_END);
    }
    if (!isPlain(v) || !this.#byte(OP_OBJ)) return false;
    const o = v as Record<string, unknown>;
    const recent = this.#recent;
    const recentIds = this.#recentIds;
    const u8 = this.#u8;
    let i = 0;
    // for-in visits exactly the own enumerable string keys in Object.keys
    // order here: the prototype is Object.prototype (checked unpolluted per
    // call) or null. V8 reads o[key] through the enum cache in this loop.
    for (const key in o) {
      // Records of one shape repeat their keys in order: skip the map lookup.
      // Slots per depth, so an entry's "ts"/"values" do not evict its values' keys.
      const slot = i < 16 ? ((depth & 3) << 4) | i : RECENT;
      i++;
      const id = slot < RECENT && recent[slot] === key ? recentIds[slot]! : this.#keyId(key, slot);
      if (id >= 0) {
        if (!this.#keyRef(id)) return false;
        this.#keyBytes += this.#keyLengths[id]!;
      } else if (!this.#string(OP_KEY, key)) {
        return false;
      }
      const value = o[key];
      if (typeof value === "number") {
        const pos = this.#pos;
        if (pos + 9 > this.#limit) return false;
        u8[pos] = OP_NUM;
        this.#view.setFloat64(pos + 1, value, true);
        this.#pos = pos + 9;
      } else if (!this.#value(value, depth + 1)) {
        return false;
      }
    }
    return this.#byte(OP_OBJ_END);
  }

  /** The id of a registered key (registering it when there is room), or -1. */
  #keyId(key: string, position: number): number {
    let id = this.#keys.get(key);
    if (id === undefined) {
      if (this.#keys.size >= KEY_SLOTS || key.length > KEY_MAX_LENGTH) return -1;
      const region = this.#region;
      const at = this.#keyData + region.used;
      const room = region.top - region.used;
      const fragment = `${JSON.stringify(key)}:`; // JSON.stringify escapes exactly
      if (fragment.length * 3 > room) return -1;
      const { written } = encoder.encodeInto(fragment, this.#u8.subarray(at, at + room));
      id = this.#keys.size;
      this.#view.setUint32(this.#keyIndex + id * 4, region.used | (written << 16), true);
      region.used += written;
      this.#keyLengths[id] = written;
      this.#keys.set(key, id);
    }
    if (position < RECENT) {
      this.#recent[position] = key;
      this.#recentIds[position] = id;
    }
    return id;
  }

  /** A registered key by id. */
  #keyRef(id: number): boolean {
    const pos = this.#pos;
    if (pos + 3 > this.#limit) return false;
    const u8 = this.#u8;
    u8[pos] = OP_KEY_ID;
    u8[pos + 1] = id & 0xff;
    u8[pos + 2] = id >> 8;
    this.#pos = pos + 3;
    return true;
  }

  #byte(op: number): boolean {
    if (this.#pos >= this.#limit) return false;
    this.#u8[this.#pos++] = op;
    return true;
  }

  /** Op, u32 length, UTF-8 bytes. Lone surrogates go as a raw escaped fragment. */
  #string(op: number, s: string): boolean {
    const n = s.length;
    const at = this.#pos + 5;
    if (at + n * 3 > this.#limit) return false;
    const u8 = this.#u8;
    let i = 0;
    if (n <= 64) {
      for (; i < n; i++) {
        const c = s.charCodeAt(i);
        if (c >= 0x80) break;
        u8[at + i] = c;
      }
    }
    let written = i;
    if (i < n) {
      if (s.isWellFormed()) {
        written = encoder.encodeInto(s, u8.subarray(at, at + n * 3)).written;
      } else {
        // JSON.stringify escapes lone surrogates as \udXXX [ECMA-262 QuoteJSONString].
        const quoted = JSON.stringify(s);
        if (at + quoted.length * 3 + 1 > this.#limit) return false;
        written = encoder.encodeInto(quoted, u8.subarray(at, at + quoted.length * 3)).written;
        if (op === OP_KEY) {
          u8[at + written++] = 0x3a; // ":" follows a key
          op = OP_RAW_KEY;
        } else {
          op = OP_RAW;
        }
      }
    }
    u8[this.#pos] = op;
    this.#view.setUint32(this.#pos + 1, written, true);
    this.#pos = at + written;
    return true;
  }
}

function isPlain(v: unknown): boolean {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return (proto === objectProto || proto === null) &&
    typeof (v as { toJSON?: unknown }).toJSON !== "function";
}
