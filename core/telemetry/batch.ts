/**
 * Columnar telemetry: keys registered once, rows of numbers appended, the
 * whole batch serialized as one ThingsBoard `[{"ts":…,"values":{…}},…]`
 * payload and framed as one PUBLISH in one wasm call.
 *
 * @module
 */

import { InvalidPayloadError } from "../errors.ts";
import {
  type EncoderContext,
  encoderContext,
  ERR_NON_FINITE,
  KEY_DATA_SIZE,
  stageTopic,
  takeFrame,
  TAPE_SIZE,
} from "../../wasm/_encode.ts";
import { ensureNumbers, isTrap } from "../../wasm/_instance.ts";
import { type OutboundBytes, ownedBytes } from "../../wasm/_arena.ts";
import { copyOf } from "../_slab.ts";
import {
  flagsOf,
  type TelemetryEngine,
  type TelemetryPublishOptions,
  tsPublish,
} from "./encode.ts";

/**
 * Options of {@linkcode TelemetryBatch}.
 *
 * @example
 * ```ts
 * import type { TelemetryBatchOptions } from "@tbwasm/sdk/telemetry";
 * const options: TelemetryBatchOptions = { capacity: 1000 };
 * ```
 */
export interface TelemetryBatchOptions {
  /** Rows allocated up front (the batch grows past it). @default {64} */
  capacity?: number;
}

const encoder = new TextEncoder();
/** Rows×columns up to which copying into wasm memory is a plain loop (no subarray). */
const LOOP_COPY = 64;
/** Key blocks already in the shared instance's key region, by content. */
const keyBlocks = new Map<string, number>();

/** The address of `fragments` in wasm memory (written once per content), or -1 when full. */
function keyBlockAt(c: EncoderContext, fragments: Uint8Array, id: string): number {
  let at = keyBlocks.get(id);
  if (at === undefined) {
    const region = c.keys;
    // 8 bytes of slack: the writer copies key fragments 8 bytes at a time.
    const top = region.top - fragments.length - 8;
    // Batches take at most the upper half, leaving the rest to the tape's key cache.
    if (top < region.used || top < KEY_DATA_SIZE / 2) return -1;
    region.top = top;
    at = c.keyData + top;
    c.w.u8.set(fragments, at);
    keyBlocks.set(id, at);
  }
  return at;
}

/**
 * Rows of numeric telemetry with fixed keys. Keys are written in the order
 * `JSON.stringify` would write them for an object (integer-like keys first),
 * so the payload equals `JSON.stringify(batch.toEntries())`.
 *
 * @example Sampling 8 sensors and publishing 100 rows at once
 * ```ts
 * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
 * const batch = new TelemetryBatch(["t1", "t2", "t3", "t4", "h1", "h2", "p", "v"]);
 * const values = new Float64Array(8);
 * for (let i = 0; i < 100; i++) {
 *   values.fill(20 + i / 10);
 *   batch.append(1_700_000_000_000 + i * 1000, values);
 * }
 * const packet = batch.encodePublish("v1/devices/me/telemetry", { qos: 1, packetId: 1 });
 * batch.clear();
 * ```
 */
export class TelemetryBatch {
  /** The keys, in the order they were registered. */
  readonly keys: readonly string[];
  #order: Int32Array;
  #identity: boolean;
  /** `"key":` fragments (UTF-8) in output order, each with a u32 length prefix. */
  #fragments: Uint8Array;
  /** The fragments joined (identifies the block in wasm memory). */
  #fragmentsId: string;
  /** Address of the fragments in wasm memory, once written (-1 before, -2 when no room). */
  #keysAt = -1;
  #ts: Float64Array;
  #values: Float64Array;
  #rows = 0;

  /**
   * Registers the keys.
   *
   * @param keys Telemetry keys (distinct strings).
   * @param options Initial capacity.
   * @throws {TypeError} for an empty, duplicate or non-string key list.
   */
  constructor(keys: readonly string[], options: TelemetryBatchOptions = {}) {
    if (!Array.isArray(keys) || keys.length === 0 || keys.some((k) => typeof k !== "string")) {
      throw new TypeError("Cannot create TelemetryBatch: keys must be a non-empty string array");
    }
    const seen = new Set<string>();
    for (const k of keys) {
      if (seen.has(k)) {
        const name = JSON.stringify(k);
        throw new TypeError(
          `Cannot create TelemetryBatch: key ${name} is listed twice; pass distinct keys`,
        );
      }
      seen.add(k);
    }
    this.keys = [...keys];
    const index = new Map(keys.map((k, i) => [k, i]));
    const ordered = Object.keys(Object.fromEntries(keys.map((k) => [k, 0])));
    this.#order = Int32Array.from(ordered, (k) => index.get(k)!);
    this.#identity = this.#order.every((v, i) => v === i);
    const texts = ordered.map((k) => `${JSON.stringify(k)}:`);
    this.#fragmentsId = texts.join("");
    const parts = texts.map((t) => encoder.encode(t));
    this.#fragments = new Uint8Array(parts.reduce((n, p) => n + 4 + p.length, 0));
    const view = new DataView(this.#fragments.buffer);
    let at = 0;
    for (const p of parts) {
      view.setUint32(at, p.length, true);
      this.#fragments.set(p, at + 4);
      at += 4 + p.length;
    }
    const capacity = Math.max(1, options.capacity ?? 64);
    this.#ts = new Float64Array(capacity);
    this.#values = new Float64Array(capacity * keys.length);
  }

  /**
   * Rows appended since the last {@linkcode TelemetryBatch.clear}.
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t"]);
   * batch.append(1, [21.5]);
   * batch.length; // 1
   * ```
   */
  get length(): number {
    return this.#rows;
  }

  /**
   * Appends a row.
   *
   * @param ts Timestamp in milliseconds (a non-negative safe integer).
   * @param values One number per key, in registration order.
   * @throws {InvalidPayloadError} for a bad timestamp or a non-finite value (naming the key).
   * @throws {RangeError} when `values` has the wrong length.
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t", "h"]);
   * batch.append(Date.now(), new Float64Array([21.5, 40]));
   * ```
   */
  append(ts: number, values: ArrayLike<number>): void {
    const cols = this.keys.length;
    if (values.length !== cols) {
      throw new RangeError(
        `Cannot append row: expected ${cols} values, got ${values.length}; ` +
          "pass one value per key, in the order the keys were given",
      );
    }
    const row = this.#rows;
    if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) {
      throw new InvalidPayloadError(
        `Cannot send telemetry: "[${row}].ts" must be a timestamp in milliseconds (a non-negative integer), got ${ts}`,
        `[${row}].ts`,
      );
    }
    const typed = values instanceof Float64Array;
    for (let i = 0; i < cols; i++) {
      const v = values[i]!;
      // v - v is 0 for finite numbers, NaN for NaN and ±Infinity.
      if ((!typed && typeof v !== "number") || v - v !== 0) {
        const key = `[${row}].values.${this.keys[i]}`;
        throw new InvalidPayloadError(`Cannot send telemetry: value of "${key}" is ${v}`, key);
      }
    }
    if (row === this.#ts.length) this.#grow();
    this.#ts[row] = ts;
    const base = row * cols;
    const store = this.#values;
    if (!this.#identity) {
      for (let i = 0; i < cols; i++) store[base + i] = values[this.#order[i]!]!;
    } else if (typed && cols > LOOP_COPY) {
      store.set(values, base);
    } else {
      for (let i = 0; i < cols; i++) store[base + i] = values[i]!;
    }
    this.#rows = row + 1;
  }

  /**
   * Drops all rows (keeps the keys and the storage).
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t"]);
   * batch.append(1, [21.5]);
   * batch.clear();
   * batch.length; // 0
   * ```
   */
  clear(): void {
    this.#rows = 0;
  }

  /**
   * The rows as ThingsBoard entries (for inspection and tests).
   *
   * @returns `[{ ts, values: { key: value } }]`.
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t"]);
   * batch.append(1, [21.5]);
   * batch.toEntries(); // [{ ts: 1, values: { t: 21.5 } }]
   * ```
   */
  toEntries(): { ts: number; values: Record<string, number> }[] {
    const out = [];
    const cols = this.keys.length;
    for (let r = 0; r < this.#rows; r++) {
      const values: Record<string, number> = {};
      for (let i = 0; i < cols; i++) {
        values[this.keys[this.#order[i]!]!] = this.#values[r * cols + i]!;
      }
      out.push({ ts: this.#ts[r]!, values });
    }
    return out;
  }

  /**
   * Serializes the batch to JSON bytes.
   *
   * @param options Engine choice.
   * @returns UTF-8 of `[{"ts":…,"values":{…}},…]`.
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t"]);
   * batch.append(1, [21.5]);
   * new TextDecoder().decode(batch.encodeJson()); // '[{"ts":1,"values":{"t":21.5}}]'
   * ```
   */
  encodeJson(options?: { engine?: TelemetryEngine }): Uint8Array {
    if (options?.engine !== "ts") {
      const r = this.#wasmJson();
      if (r !== undefined) return copyOf(encoderContext().w.u8, r[0], r[0] + r[1]);
    }
    return encoder.encode(this.#tsText());
  }

  /**
   * Serializes the batch and frames it as one PUBLISH.
   *
   * @param topic Topic name, e.g. `"v1/devices/me/telemetry"`.
   * @param options QoS, packet id, retain, protocol level, engine.
   * @returns The packet bytes (owned).
   * @throws {TypeError | RangeError} for an invalid topic, QoS or packet id.
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t"]);
   * batch.append(1, [21.5]);
   * const packet = batch.encodePublish("v1/devices/me/telemetry", { qos: 1, packetId: 5 });
   * ```
   */
  encodePublish(topic: string, options: TelemetryPublishOptions = {}): Uint8Array {
    if (options.engine !== "ts") {
      const out = this.#wasmPublish(topic, options, false);
      if (out !== undefined) return out as Uint8Array;
    }
    return this.#tsPublish(topic, options);
  }

  /**
   * Like {@linkcode TelemetryBatch.encodePublish}, leaving the packet in the
   * wasm outbound arena until `release()` (after the socket write resolved).
   *
   * @param topic Topic name.
   * @param options QoS, packet id, retain, protocol level, engine.
   * @returns The packet bytes and their release.
   *
   * @example
   * ```ts
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["t"]);
   * batch.append(1, [21.5]);
   * const out = batch.encodePublishOutbound("v1/devices/me/telemetry", { qos: 1, packetId: 5 });
   * // ... await conn.write(out.bytes), then:
   * out.release();
   * ```
   */
  encodePublishOutbound(topic: string, options: TelemetryPublishOptions = {}): OutboundBytes {
    if (options.engine !== "ts") {
      const out = this.#wasmPublish(topic, options, true);
      if (out !== undefined) return out as OutboundBytes;
    }
    return ownedBytes(this.#tsPublish(topic, options));
  }

  #tsPublish(topic: string, o: TelemetryPublishOptions): Uint8Array {
    return tsPublish(topic, encoder.encode(this.#tsText()), o);
  }

  /** The pure-TS rendering: `JSON.stringify` of the entries (byte-identical by construction). */
  #tsText(): string {
    return JSON.stringify(this.toEntries());
  }

  /** Output bound of batchToJson (its per-row worst case, writer slack included). */
  #jsonBound(): number {
    return 2 + this.#rows * (56 + this.#fragments.length + this.keys.length * 26);
  }

  #wasmJson(): [number, number] | undefined {
    try {
      const c = encoderContext();
      const at = this.#stage(c);
      if (at < 0) return undefined;
      const rows = this.#rows;
      const cols = this.keys.length;
      const bound = this.#jsonBound();
      const dst = c.arena.reserve(bound);
      if (dst < 0) return undefined;
      const n = c.w.exports.batchToJson(
        c.tape,
        c.tape + rows * 8,
        rows,
        cols,
        at,
        this.#fragments.length,
        dst,
        bound,
      );
      if (n === ERR_NON_FINITE) this.#nonFinite();
      return n < 0 ? undefined : [dst, n];
    } catch (e) {
      if (isTrap(e)) return undefined; // the TS path serializes instead
      throw e;
    }
  }

  /** Serializes and frames in one wasm call; undefined sends the caller to the TS path. */
  #wasmPublish(
    topic: string,
    o: TelemetryPublishOptions,
    lease: boolean,
  ): OutboundBytes | Uint8Array | undefined {
    try {
      const flags = flagsOf(o);
      if (flags < 0) return undefined;
      const c = encoderContext();
      const topicLength = stageTopic(c, topic);
      if (topicLength < 0) return undefined;
      const at = this.#stage(c);
      if (at < 0) return undefined;
      const rows = this.#rows;
      const cols = this.keys.length;
      const room = topicLength + 10;
      const bound = this.#jsonBound();
      const dst = c.arena.reserve(bound + room);
      if (dst < 0) return undefined;
      const w = c.w;
      const start = w.exports.batchPublish(
        c.tape,
        c.tape + rows * 8,
        rows,
        cols,
        at,
        this.#fragments.length,
        dst + room,
        bound,
        w.scratch,
        topicLength,
        flags,
        o.packetId ?? 0,
        o.protocolVersion ?? 4,
      );
      if (start <= 0) {
        if (start === ERR_NON_FINITE) this.#nonFinite();
        return undefined;
      }
      return takeFrame(c, start, lease);
    } catch (e) {
      if (isTrap(e)) return undefined; // the TS path then encodes (or throws the typed error)
      throw e;
    }
  }

  /**
   * Copies the rows to the tape (timestamps, then values) and returns the
   * address of the key fragments in wasm memory, or -1 for the TS path.
   */
  #stage(c: EncoderContext): number {
    const w = c.w;
    ensureNumbers(w);
    let keysAt = this.#keysAt;
    if (keysAt === -1) {
      keysAt = this.#keysAt = keyBlockAt(c, this.#fragments, this.#fragmentsId);
      if (keysAt < 0) this.#keysAt = -2;
    }
    const rows = this.#rows;
    const count = rows * this.keys.length;
    const tsAt = c.tape;
    const valuesAt = tsAt + rows * 8;
    let end = valuesAt + count * 8;
    if (keysAt < 0) {
      // No room left in the key region: the fragments go after the values.
      keysAt = end;
      end += this.#fragments.length + 8;
      if (end > tsAt + TAPE_SIZE) return -1;
      w.u8.set(this.#fragments, keysAt);
    } else if (end > tsAt + TAPE_SIZE) {
      return -1;
    }
    const f64 = w.f64;
    const ts = this.#ts;
    const values = this.#values;
    const t = tsAt >> 3;
    const v = valuesAt >> 3;
    if (count <= LOOP_COPY) {
      for (let i = 0; i < rows; i++) f64[t + i] = ts[i]!;
      for (let i = 0; i < count; i++) f64[v + i] = values[i]!;
    } else {
      f64.set(ts.subarray(0, rows), t);
      f64.set(values.subarray(0, count), v);
    }
    return keysAt;
  }

  /** Values are validated on append: wasm finding one non-finite means memory was changed. */
  #nonFinite(): never {
    throw new InvalidPayloadError("Cannot send telemetry: a value is not a finite number", "");
  }

  #grow(): void {
    const ts = new Float64Array(this.#ts.length * 2);
    ts.set(this.#ts);
    const values = new Float64Array(ts.length * this.keys.length);
    values.set(this.#values);
    this.#ts = ts;
    this.#values = values;
  }
}
