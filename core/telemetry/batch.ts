/**
 * Columnar telemetry: keys registered once, rows of numbers appended, the
 * whole batch serialized as one ThingsBoard `[{"ts":…,"values":{…}},…]`
 * payload and framed as one PUBLISH in one wasm call.
 *
 * @module
 */

import { InvalidPayloadError } from "../errors.ts";
import { encoderContext, TAPE_SIZE } from "../../wasm/_encode.ts";
import { ensureNumbers, isTrap } from "../../wasm/_instance.ts";
import type { OutboundBytes } from "../../wasm/_arena.ts";
import { ownedBytes } from "../../wasm/_arena.ts";
import { copyOf } from "../_slab.ts";
import { tsCodec } from "../codec/mod.ts";
import { framedTelemetry, type TelemetryEngine, type TelemetryPublishOptions } from "./encode.ts";

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

const ERR_NON_FINITE = -2;
const encoder = new TextEncoder();

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
    if (new Set(keys).size !== keys.length) {
      throw new TypeError("Cannot create TelemetryBatch: keys must be distinct");
    }
    this.keys = [...keys];
    const index = new Map(keys.map((k, i) => [k, i]));
    const ordered = Object.keys(Object.fromEntries(keys.map((k) => [k, 0])));
    this.#order = Int32Array.from(ordered, (k) => index.get(k)!);
    this.#identity = this.#order.every((v, i) => v === i);
    const parts = ordered.map((k) => encoder.encode(`${JSON.stringify(k)}:`));
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
      throw new RangeError(`Cannot append row: expected ${cols} values, got ${values.length}`);
    }
    const row = this.#rows;
    const path = `[${row}]`;
    if (typeof ts !== "number" || !Number.isSafeInteger(ts) || ts < 0) {
      throw new InvalidPayloadError(
        `Cannot send telemetry: "${path}.ts" must be a timestamp in milliseconds (a non-negative integer), got ${ts}`,
        `${path}.ts`,
      );
    }
    for (let i = 0; i < cols; i++) {
      const v = values[i]!;
      if (typeof v !== "number" || !Number.isFinite(v)) {
        const key = `${path}.values.${this.keys[i]}`;
        throw new InvalidPayloadError(`Cannot send telemetry: value of "${key}" is ${v}`, key);
      }
    }
    if (row === this.#ts.length) this.#grow();
    this.#ts[row] = ts;
    const base = row * cols;
    if (this.#identity && values instanceof Float64Array) {
      this.#values.set(values, base);
    } else {
      for (let i = 0; i < cols; i++) this.#values[base + i] = values[this.#order[i]!]!;
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
      const r = this.#wasmJson(0);
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
      const out = framedTelemetry(topic, options, (room) => this.#wasmJson(room), false);
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
      const out = framedTelemetry(topic, options, (room) => this.#wasmJson(room), true);
      if (out !== undefined) return out as OutboundBytes;
    }
    return ownedBytes(this.#tsPublish(topic, options));
  }

  #tsPublish(topic: string, o: TelemetryPublishOptions): Uint8Array {
    const payload = encoder.encode(this.#tsText());
    const qos = o.qos ?? 0;
    const retain = o.retain ?? false;
    return tsCodec.encode(
      qos === 0
        ? { type: "publish", topic, payload, qos, retain, dup: false }
        : { type: "publish", topic, payload, qos, retain, dup: false, packetId: o.packetId! },
      { protocolVersion: o.protocolVersion ?? 4 },
    );
  }

  /** The pure-TS rendering: `JSON.stringify` of the entries (byte-identical by construction). */
  #tsText(): string {
    return JSON.stringify(this.toEntries());
  }

  #wasmJson(room: number): [number, number] | undefined {
    try {
      return this.#writeJson(room);
    } catch (e) {
      if (isTrap(e)) return undefined; // the TS path serializes instead
      throw e;
    }
  }

  #writeJson(room: number): [number, number] | undefined {
    const c = encoderContext();
    const w = c.w;
    ensureNumbers(w);
    const cols = this.keys.length;
    const rows = this.#rows;
    const tsAt = c.tape;
    const valuesAt = tsAt + rows * 8;
    const keysAt = valuesAt + rows * cols * 8;
    if (keysAt + this.#fragments.length > c.tape + TAPE_SIZE) return undefined;
    new Float64Array(w.u8.buffer, tsAt, rows).set(this.#ts.subarray(0, rows));
    new Float64Array(w.u8.buffer, valuesAt, rows * cols).set(this.#values.subarray(0, rows * cols));
    w.u8.set(this.#fragments, keysAt);
    const bound = 2 + rows * (40 + this.#fragments.length + cols * 26);
    const at = c.arena.reserve(bound + room);
    if (at < 0) return undefined;
    const n = w.exports.batchToJson(
      tsAt,
      valuesAt,
      rows,
      cols,
      keysAt,
      this.#fragments.length,
      at + room,
      bound,
    );
    if (n === ERR_NON_FINITE) {
      throw new InvalidPayloadError("Cannot send telemetry: a value is not a finite number", "");
    }
    return n < 0 ? undefined : [at + room, n];
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
