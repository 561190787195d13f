/**
 * Compiles the embedded module once and makes instances of it. Each instance
 * owns a fixed 2 MiB memory that never grows, so the views made here stay
 * valid for the instance's life.
 *
 * @module
 */

import { WASM_BASE64 } from "./_module.ts";
import { writePow10Table } from "./_tables.ts";

/** The module's exports, typed. Pointers and lengths are byte offsets. */
export interface WasmExports {
  memory: WebAssembly.Memory;
  ARENA: WebAssembly.Global;
  KEY_INDEX: WebAssembly.Global;
  KEY_DATA: WebAssembly.Global;
  MEMORY_END: WebAssembly.Global;
  POW10_G: WebAssembly.Global;
  SCRATCH: WebAssembly.Global;
  SCRATCH_SIZE: WebAssembly.Global;
  RESULT: WebAssembly.Global;
  split(pos: number, end: number, maxSize: number, version: number): number;
  decodePublish(p: number, total: number, version: number): number;
  decodeNext(pos: number, end: number, maxSize: number, version: number): number;
  decodeAck(p: number, total: number, version: number): number;
  encodePublishHead(
    dst: number,
    topic: number,
    topicLen: number,
    payloadLen: number,
    flags: number,
    id: number,
    version: number,
  ): number;
  framePublishBefore(
    payload: number,
    payloadLen: number,
    topic: number,
    topicLen: number,
    flags: number,
    id: number,
    version: number,
  ): number;
  encodeAck(dst: number, first: number, id: number, reasonCode: number): number;
  tapeToJson(tape: number, dst: number, cap: number): number;
  tapePublish(
    tape: number,
    dst: number,
    cap: number,
    topic: number,
    topicLen: number,
    flags: number,
    id: number,
    version: number,
  ): number;
  batchToJson(
    ts: number,
    values: number,
    rows: number,
    cols: number,
    keys: number,
    keysLen: number,
    dst: number,
    cap: number,
  ): number;
  batchPublish(
    ts: number,
    values: number,
    rows: number,
    cols: number,
    keys: number,
    keysLen: number,
    dst: number,
    cap: number,
    topic: number,
    topicLen: number,
    flags: number,
    id: number,
    version: number,
  ): number;
  formatNumber(dst: number, value: number): number;
}

/** Indexes into {@linkcode WasmInstance.result} (see assembly/layout.ts). */
export const R_TOPIC_PTR = 0;
export const R_TOPIC_LENGTH = 1;
export const R_TOPIC_SAME = 2;
export const R_PACKET_ID = 3;
export const R_PAYLOAD_PTR = 4;
export const R_PAYLOAD_LENGTH = 5;
export const R_HEADER_LENGTH = 6;
export const R_ERROR_AT = 7;
export const R_FRAME_LENGTH = 8;
export const R_FLAGS = 9;

/** One instance with views over its memory. */
export interface WasmInstance {
  exports: WasmExports;
  u8: Uint8Array;
  /** The u32 results the module stores for the host. */
  result: Uint32Array;
  view: DataView;
  /** Start of the big arena. */
  arena: number;
  /** End of memory. */
  end: number;
  /** Scratch for one topic or key. */
  scratch: number;
  scratchSize: number;
  /** The host string of the last topic decoded in this instance (see R_TOPIC_SAME). */
  topic: string;
  /** View of the whole memory as f64 (index = byte address / 8). */
  f64: Float64Array;
  /** Whether the float formatter's tables are written. */
  numbers: boolean;
}

let compiled: WebAssembly.Module | undefined;

/** `Uint8Array.fromBase64` (ES2026), where the runtime has it. */
const fromBase64 = (Uint8Array as unknown as {
  fromBase64?: (base64: string) => Uint8Array<ArrayBuffer>;
}).fromBase64;

/**
 * Decodes base64: natively where `Uint8Array.fromBase64` exists (about a
 * millisecond less to a ready engine than a JS loop that runs only once, cold),
 * else with a table (Deno's first `atob` call costs milliseconds).
 */
function base64Bytes(base64: string): Uint8Array<ArrayBuffer> {
  if (fromBase64) return fromBase64(base64);
  return base64BytesJs(base64);
}

/** The table decoder behind {@linkcode base64Bytes} (exported for its test). */
export function base64BytesJs(base64: string): Uint8Array<ArrayBuffer> {
  const table = new Uint8Array(128);
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  for (let i = 0; i < 64; i++) table[alphabet.charCodeAt(i)] = i;
  let end = base64.length;
  while (base64.charCodeAt(end - 1) === 61) end--; // "="
  const bytes = new Uint8Array((end * 3) >> 2);
  let bits = 0;
  let count = 0;
  let at = 0;
  for (let i = 0; i < end; i++) {
    bits = (bits << 6) | table[base64.charCodeAt(i)]!;
    count += 6;
    if (count >= 8) {
      count -= 8;
      bytes[at++] = (bits >> count) & 0xff;
    }
  }
  return bytes;
}

/** The compiled module (compiled on first use, synchronously). */
export function wasmModule(): WebAssembly.Module {
  compiled ??= new WebAssembly.Module(base64Bytes(WASM_BASE64));
  return compiled;
}

/**
 * Creates an instance. With `numbers`, the float formatter's tables are
 * written at once (see {@linkcode ensureNumbers}).
 */
export function createInstance(numbers: boolean): WasmInstance {
  const instance = new WebAssembly.Instance(wasmModule(), {});
  const exports = instance.exports as unknown as WasmExports;
  const buffer = exports.memory.buffer as ArrayBuffer;
  const w: WasmInstance = {
    exports,
    u8: new Uint8Array(buffer),
    result: new Uint32Array(buffer, exports.RESULT.value, 10),
    view: new DataView(buffer),
    f64: new Float64Array(buffer),
    arena: exports.ARENA.value,
    end: exports.MEMORY_END.value,
    scratch: exports.SCRATCH.value,
    scratchSize: exports.SCRATCH_SIZE.value,
    topic: "",
    numbers: false,
  };
  if (numbers) ensureNumbers(w);
  return w;
}

/**
 * Writes the float formatter's table (about 1 ms of `bigint` work) the
 * first time an instance formats numbers, so decoding and PUBLISH framing
 * never pay for them.
 */
export function ensureNumbers(w: WasmInstance): void {
  if (w.numbers) return;
  writePow10Table(w.u8.buffer as ArrayBuffer, w.exports.POW10_G.value);
  w.numbers = true;
}

let shared: WasmInstance | undefined;

/** The process-wide instance used for encoding, shared decoding and JSON (synchronous calls only). */
export function sharedInstance(): WasmInstance {
  shared ??= createInstance(false);
  return shared;
}

/** `true` for a wasm trap, which callers turn into the TS path or a typed error. */
export function isTrap(e: unknown): boolean {
  return e instanceof WebAssembly.RuntimeError;
}
