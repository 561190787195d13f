/**
 * The codec engines every conformance test runs against, and their labels
 * for test names. Besides the two `Codec` objects, the wasm engine's own
 * paths run as a third engine: bytes go in through the zero-copy
 * `readBuffer()`/`commit(n)` API (a decoder with its own wasm instance) and
 * packets come out of `encodeOutbound()`.
 *
 * @module
 */

import {
  type Codec,
  type DecoderOptions,
  type EncodeOptions,
  type Packet,
  type PacketDecoder,
  type ProtocolVersion,
  tsCodec,
} from "../core/codec/mod.ts";
import { wasmCodec, type WasmDecoder } from "../wasm/mod.ts";

/** A `PacketDecoder` that feeds a `WasmDecoder` through `readBuffer()`/`commit(n)`. */
class ZeroCopyDecoder implements PacketDecoder {
  #d: WasmDecoder;

  constructor(options?: DecoderOptions) {
    this.#d = wasmCodec.createDecoder(options);
  }

  get protocolVersion(): ProtocolVersion {
    return this.#d.protocolVersion;
  }

  set protocolVersion(version: ProtocolVersion) {
    this.#d.protocolVersion = version;
  }

  get failed(): boolean {
    return this.#d.failed;
  }

  get bufferedBytes(): number {
    return this.#d.bufferedBytes;
  }

  push(chunk: Uint8Array): Packet[] {
    if (chunk.length === 0) return this.#d.push(chunk); // keeps the failed-state check
    const out: Packet[] = [];
    for (let pos = 0; pos < chunk.length;) {
      const room = this.#d.readBuffer();
      const n = Math.min(room.length, chunk.length - pos);
      room.set(chunk.subarray(pos, pos + n));
      pos += n;
      for (const p of this.#d.commit(n)) out.push(p);
    }
    return out;
  }

  reset(): void {
    this.#d.reset();
  }
}

/** The wasm engine through `readBuffer()`/`commit(n)` and `encodeOutbound()`. */
const wasmZeroCopy: Codec = {
  name: "wasm",
  encodedLength: (packet: Packet, options?: EncodeOptions) =>
    wasmCodec.encodedLength(packet, options),
  encodeInto: (packet: Packet, buffer: Uint8Array, offset: number, options?: EncodeOptions) =>
    wasmCodec.encodeInto(packet, buffer, offset, options),
  encode(packet: Packet, options?: EncodeOptions): Uint8Array {
    const out = wasmCodec.encodeOutbound(packet, options);
    try {
      return out.bytes.slice();
    } finally {
      out.release();
    }
  },
  createDecoder: (options?: DecoderOptions) => new ZeroCopyDecoder(options),
};

const LABELS = new Map<Codec, string>([
  [tsCodec, "ts"],
  [wasmCodec, "wasm"],
  [wasmZeroCopy, "wasm readBuffer/encodeOutbound"],
]);

/** Codec engines under test, the pure-TS reference first. */
export const engines: readonly Codec[] = [tsCodec, wasmCodec, wasmZeroCopy];

/**
 * A unique label of `engine` for test names.
 *
 * @param engine One of {@linkcode engines}.
 * @returns Its label, e.g. "ts".
 */
export function engineLabel(engine: Codec): string {
  return LABELS.get(engine) ?? engine.name;
}
