/**
 * The WebAssembly engine: an MQTT codec with the same interface and output as
 * the TypeScript codec, whose hot path (frame splitting, PUBLISH, acks, PING)
 * runs in AssemblyScript compiled to wasm, plus zero-copy arenas.
 *
 * The module is embedded (base64) and compiled on first use; it has no
 * imports and a fixed 2 MiB memory per instance.
 *
 * @example Choosing the wasm engine
 * ```ts
 * import { wasmCodec } from "@tbwasm/sdk/wasm";
 * const bytes = wasmCodec.encode({ type: "pingreq" });
 * const [packet] = wasmCodec.createDecoder().push(bytes); // { type: "pingreq" }
 * ```
 *
 * @module
 */

import { tsCodec } from "../core/codec/mod.ts";
import type { Codec, EncodeOptions, Packet } from "../core/codec/mod.ts";
import { WasmDecoder, type WasmDecoderOptions } from "./_decoder.ts";
import { encodeIntoWasm, encodeOutboundWasm, encodeWasm } from "./_encode.ts";
import { type OutboundBytes, ownedBytes } from "./_arena.ts";
import { isTrap } from "./_instance.ts";

export { WasmDecoder, type WasmDecoderOptions } from "./_decoder.ts";
export type { OutboundBytes } from "./_arena.ts";

/**
 * The wasm engine's codec: {@linkcode Codec} plus outbound-arena encoding.
 *
 * @example Encoding into the outbound arena
 * ```ts
 * import { wasmCodec } from "@tbwasm/sdk/wasm";
 * const out = wasmCodec.encodeOutbound({
 *   type: "publish", topic: "t", payload: new Uint8Array([1]), qos: 0, retain: false, dup: false,
 * });
 * console.log(out.bytes.length); // 6
 * out.release();
 * ```
 */
export interface WasmCodec extends Codec {
  /** Engine name: `"wasm"`. */
  readonly name: "wasm";
  /**
   * Creates a streaming decoder over its own wasm arena.
   *
   * @param options Protocol level, maximum packet size, zero-copy payloads.
   * @returns A decoder that also offers `readBuffer()`/`commit(n)`.
   */
  createDecoder(options?: WasmDecoderOptions): WasmDecoder;
  /**
   * Encodes a packet into the outbound arena (PUBLISH; other packets become
   * an owned copy). The bytes stay valid until `release()`.
   *
   * @param packet The packet.
   * @param options Protocol level.
   * @returns The bytes and their release.
   * @throws {TypeError | RangeError} for invalid packets, like the TS codec.
   */
  encodeOutbound(packet: Packet, options?: EncodeOptions): OutboundBytes;
}

/**
 * The wasm engine. Byte-identical to `tsCodec` and with equal decoded
 * packets; invalid input throws the same typed errors.
 *
 * Small results of `encode()` and decoded payloads are views into shared
 * 64 KiB slabs (no `ArrayBuffer` per packet, like Node's `Buffer` pool): use
 * `byteOffset`/`byteLength` with `.buffer`, and do not transfer it.
 *
 * @example Decoding a PUBLISH
 * ```ts
 * import { wasmCodec } from "@tbwasm/sdk/wasm";
 * const decoder = wasmCodec.createDecoder({ protocolVersion: 4 });
 * const [p] = decoder.push(new Uint8Array([0x30, 0x04, 0x00, 0x01, 0x74, 0x21]));
 * console.log(p); // { type: "publish", topic: "t", payload: Uint8Array [33], qos: 0, ... }
 * ```
 */
export const wasmCodec: WasmCodec = {
  name: "wasm",
  encodedLength(packet: Packet, options?: EncodeOptions): number {
    return tsCodec.encodedLength(packet, options);
  },
  encodeInto(packet: Packet, buffer: Uint8Array, offset: number, options?: EncodeOptions): number {
    try {
      return encodeIntoWasm(packet, buffer, offset, options);
    } catch (e) {
      if (!isTrap(e)) throw e;
      return tsCodec.encodeInto(packet, buffer, offset, options); // never a RuntimeError
    }
  },
  encode(packet: Packet, options?: EncodeOptions): Uint8Array {
    try {
      return encodeWasm(packet, options);
    } catch (e) {
      if (!isTrap(e)) throw e;
      return tsCodec.encode(packet, options);
    }
  },
  createDecoder(options?: WasmDecoderOptions): WasmDecoder {
    return new WasmDecoder(options);
  },
  encodeOutbound(packet: Packet, options?: EncodeOptions): OutboundBytes {
    try {
      return encodeOutboundWasm(packet, options);
    } catch (e) {
      if (!isTrap(e)) throw e;
      return ownedBytes(tsCodec.encode(packet, options));
    }
  },
};
