/**
 * Telemetry and attribute JSON, alone or fused with PUBLISH framing, on the
 * wasm engine (default) or the TS engine. Both produce the bytes of
 * `JSON.stringify` + UTF-8 and both reject what `core/payload.ts` rejects
 * (`NaN`, `±Infinity`, `undefined`, …) with the same {@linkcode InvalidPayloadError}.
 *
 * @module
 */

import { tsCodec } from "../codec/mod.ts";
import type { ProtocolVersion, QoS } from "../codec/mod.ts";
import { InvalidPayloadError } from "../errors.ts";
import {
  type KeyValues,
  type PayloadSerializer,
  type Telemetry,
  validateAttributes,
  validateTelemetry,
} from "../payload.ts";
import {
  type EncoderContext,
  encoderContext,
  ERR_NON_FINITE,
  fixedFlags,
  stageTopic,
  takeFrame,
  TAPE_SIZE,
} from "../../wasm/_encode.ts";
import { ensureNumbers, isTrap } from "../../wasm/_instance.ts";
import { type OutboundBytes, ownedBytes } from "../../wasm/_arena.ts";
import { copyOf } from "../_slab.ts";
import { Tape } from "./_tape.ts";

/**
 * Which engine serializes: `"wasm"` (AssemblyScript, the default) or `"ts"`
 * (`JSON.stringify` + `TextEncoder`).
 *
 * @example
 * ```ts
 * import type { TelemetryEngine } from "@tbwasm/sdk/telemetry";
 * const engine: TelemetryEngine = "ts";
 * ```
 */
export type TelemetryEngine = "wasm" | "ts";

/**
 * Options of {@linkcode encodeTelemetryPublish} and the batch's publish calls.
 *
 * @example
 * ```ts
 * import type { TelemetryPublishOptions } from "@tbwasm/sdk/telemetry";
 * const options: TelemetryPublishOptions = { qos: 1, packetId: 7, protocolVersion: 5 };
 * ```
 */
export interface TelemetryPublishOptions {
  /** QoS of the PUBLISH. @default {0} */
  qos?: QoS;
  /** Packet identifier, required (1..65535) when `qos > 0`. */
  packetId?: number;
  /** Retain flag. @default {false} */
  retain?: boolean;
  /** Protocol level (an empty property block is written on 5). @default {4} */
  protocolVersion?: ProtocolVersion;
  /** Serializing engine. @default {"wasm"} */
  engine?: TelemetryEngine;
}

const encoder = new TextEncoder();
let tape: Tape | undefined;

function tsJson(data: Telemetry): Uint8Array {
  validateTelemetry(data);
  return encoder.encode(JSON.stringify(data));
}

type Validate = (data: unknown) => void;

/** Maps a non-finite number found by wasm to the canonical error. */
function nonFinite(data: unknown, validate: Validate): never {
  validate(data);
  throw new InvalidPayloadError("Cannot send telemetry: a value is not a finite number", "");
}

/** The shared tape writer (created with the shared instance). */
function sharedTape(c: EncoderContext): Tape {
  if (tape === undefined) {
    ensureNumbers(c.w);
    tape = new Tape(
      c.w.u8,
      c.tape,
      TAPE_SIZE,
      c.w.exports.KEY_INDEX.value,
      c.keyData,
      c.keys,
    );
  }
  return tape;
}

/**
 * Writes JSON of `data` into the outbound ring. Returns [jsonAt, jsonLength]
 * or undefined for the TS path.
 */
function wasmJson(
  data: unknown,
  validate: Validate = validateTelemetry,
): [number, number] | undefined {
  try {
    const c = encoderContext();
    const t = sharedTape(c);
    const length = t.writeTelemetry(data);
    if (length < 0) return undefined;
    const bound = 6 * length + t.keyBytes + 16;
    const at = c.arena.reserve(bound);
    if (at < 0) return undefined;
    const n = c.w.exports.tapeToJson(c.tape, at, bound);
    if (n === ERR_NON_FINITE) nonFinite(data, validate);
    return n < 0 ? undefined : [at, n];
  } catch (e) {
    if (isTrap(e)) return undefined; // the TS path then serializes (or throws the typed error)
    throw e;
  }
}

/**
 * Serializes `data` and frames it as a PUBLISH in the outbound ring in one
 * wasm call. `lease` keeps the bytes there; otherwise they are copied out.
 * Returns undefined for the TS path.
 */
function wasmPublish(
  topic: string,
  data: unknown,
  o: TelemetryPublishOptions,
  lease: boolean,
  validate: Validate,
): OutboundBytes | Uint8Array | undefined {
  try {
    const flags = flagsOf(o);
    if (flags < 0) return undefined;
    const c = encoderContext();
    const topicLength = stageTopic(c, topic);
    if (topicLength < 0) return undefined;
    const t = sharedTape(c);
    const length = t.writeTelemetry(data);
    if (length < 0) return undefined;
    const room = topicLength + 10;
    const bound = 6 * length + t.keyBytes + 16;
    const at = c.arena.reserve(bound + room);
    if (at < 0) return undefined;
    const w = c.w;
    const start = w.exports.tapePublish(
      c.tape,
      at + room,
      bound,
      w.scratch,
      topicLength,
      flags,
      o.packetId ?? 0,
      o.protocolVersion ?? 4,
    );
    if (start <= 0) {
      if (start === ERR_NON_FINITE) nonFinite(data, validate);
      return undefined;
    }
    return takeFrame(c, start, lease);
  } catch (e) {
    if (isTrap(e)) return undefined; // the TS path then encodes (or throws the typed error)
    throw e;
  }
}

/**
 * Serializes telemetry (an object, a `{ts, values}` entry, or an array of
 * those) to the UTF-8 bytes of its JSON text, after validating it.
 *
 * @param data Telemetry in any shape ThingsBoard accepts.
 * @param options Engine choice.
 * @returns Bytes equal to `new TextEncoder().encode(JSON.stringify(data))`.
 * @throws {InvalidPayloadError} naming the key of a `NaN`, `±Infinity` or other
 * value JSON cannot carry.
 *
 * @example
 * ```ts
 * import { encodeTelemetryJson } from "@tbwasm/sdk/telemetry";
 * const bytes = encodeTelemetryJson({ temperature: 21.5, on: true });
 * new TextDecoder().decode(bytes); // '{"temperature":21.5,"on":true}'
 * ```
 */
export function encodeTelemetryJson(
  data: Telemetry,
  options?: { engine?: TelemetryEngine },
): Uint8Array {
  if (options?.engine !== "ts") {
    const r = wasmJson(data);
    if (r !== undefined) return copyOf(encoderContext().w.u8, r[0], r[0] + r[1]);
  }
  return tsJson(data);
}

/**
 * A {@linkcode PayloadSerializer} backed by wasm, for `encodeTelemetry(data,
 * wasmPayloadSerializer)` and the client. Values it does not cover go through
 * `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { wasmPayloadSerializer } from "@tbwasm/sdk/telemetry";
 * new TextDecoder().decode(wasmPayloadSerializer({ a: 0.1 })); // '{"a":0.1}'
 * ```
 */
export const wasmPayloadSerializer: PayloadSerializer = (value): Uint8Array => {
  const r = wasmJson(value);
  if (r !== undefined) return copyOf(encoderContext().w.u8, r[0], r[0] + r[1]);
  return encoder.encode(JSON.stringify(value));
};

/** Frames `payload` as a PUBLISH with the TS codec (which throws for invalid options). */
export function tsPublish(
  topic: string,
  payload: Uint8Array,
  o: TelemetryPublishOptions,
): Uint8Array {
  const qos = o.qos ?? 0;
  return tsCodec.encode(
    qos === 0 ? { type: "publish", topic, payload, qos, retain: o.retain ?? false, dup: false } : {
      type: "publish",
      topic,
      payload,
      qos,
      retain: o.retain ?? false,
      dup: false,
      packetId: o.packetId as number,
    },
    { protocolVersion: o.protocolVersion ?? 4 },
  );
}

/** Fixed-header flags when the options are plainly valid, else -1 (TS path throws). */
export function flagsOf(o: TelemetryPublishOptions): number {
  return fixedFlags(o.qos ?? 0, o.retain ?? false, false, o.packetId, o.protocolVersion ?? 4);
}

/**
 * Serializes telemetry and frames it as one complete PUBLISH packet in one
 * call (the fused hot path of the ThingsBoard client).
 *
 * @param topic Topic name, e.g. `"v1/devices/me/telemetry"`.
 * @param data Telemetry in any shape ThingsBoard accepts.
 * @param options QoS, packet id, retain, protocol level, engine.
 * @returns The packet bytes (owned by the caller).
 * @throws {InvalidPayloadError} for values JSON cannot carry (naming the key).
 * @throws {TypeError | RangeError} for an invalid topic, QoS or packet id.
 *
 * @example
 * ```ts
 * import { encodeTelemetryPublish } from "@tbwasm/sdk/telemetry";
 * const packet = encodeTelemetryPublish("v1/devices/me/telemetry", { t: 21.5 }, {
 *   qos: 1,
 *   packetId: 1,
 * });
 * packet[0]; // 0x32: PUBLISH, QoS 1
 * ```
 */
export function encodeTelemetryPublish(
  topic: string,
  data: Telemetry,
  options: TelemetryPublishOptions = {},
): Uint8Array {
  if (options.engine !== "ts") {
    const out = wasmPublish(topic, data, options, false, validateTelemetry);
    if (out !== undefined) return out as Uint8Array;
  }
  return tsPublish(topic, tsJson(data), options);
}

/**
 * Like {@linkcode encodeTelemetryPublish}, but the packet stays in the wasm
 * outbound arena (no copy) until `release()`; call it once the socket write
 * resolved. With the TS engine the bytes are owned and `release()` does nothing.
 *
 * @param topic Topic name.
 * @param data Telemetry in any shape ThingsBoard accepts.
 * @param options QoS, packet id, retain, protocol level, engine.
 * @returns The packet bytes and their release.
 * @throws {InvalidPayloadError} for values JSON cannot carry (naming the key).
 * @throws {TypeError | RangeError} for an invalid topic, QoS or packet id.
 *
 * @example
 * ```ts ignore
 * import { encodeTelemetryPublishOutbound } from "@tbwasm/sdk/telemetry";
 * const out = encodeTelemetryPublishOutbound("v1/devices/me/telemetry", { t: 21.5 });
 * try {
 *   await conn.write(out.bytes);
 * } finally {
 *   out.release();
 * }
 * ```
 */
export function encodeTelemetryPublishOutbound(
  topic: string,
  data: Telemetry,
  options: TelemetryPublishOptions = {},
): OutboundBytes {
  if (options.engine !== "ts") {
    const out = wasmPublish(topic, data, options, true, validateTelemetry);
    if (out !== undefined) return out as OutboundBytes;
  }
  return ownedBytes(tsPublish(topic, tsJson(data), options));
}

/**
 * Serializes client attributes (one flat object) and frames them as one
 * PUBLISH, like {@linkcode encodeTelemetryPublish} but validated as
 * attributes (`Cannot send attributes: …`).
 *
 * @param topic Topic name, e.g. `"v1/devices/me/attributes"`.
 * @param data One object of attributes.
 * @param options QoS, packet id, retain, protocol level, engine.
 * @returns The packet bytes (owned by the caller).
 * @throws {InvalidPayloadError} for values JSON cannot carry (naming the key).
 * @throws {TypeError | RangeError} for an invalid topic, QoS or packet id.
 *
 * @example
 * ```ts
 * import { encodeAttributesPublish } from "@tbwasm/sdk/telemetry";
 * const packet = encodeAttributesPublish("v1/devices/me/attributes", { firmware: "1.2.0" });
 * ```
 */
export function encodeAttributesPublish(
  topic: string,
  data: KeyValues,
  options: TelemetryPublishOptions = {},
): Uint8Array {
  const oneObject = typeof data === "object" && data !== null && !Array.isArray(data);
  if (options.engine !== "ts" && oneObject) {
    const out = wasmPublish(topic, data, options, false, validateAttributes);
    if (out !== undefined) return out as Uint8Array;
  }
  validateAttributes(data);
  return tsPublish(topic, encoder.encode(JSON.stringify(data)), options);
}
