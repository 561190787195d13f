/**
 * The pure-TypeScript codec engine as a {@linkcode Codec} object.
 *
 * @module
 */

import type { Codec, DecoderOptions } from "./types.ts";
import { encode, encodedLength, encodeInto } from "./encode.ts";
import { MqttDecoder } from "./decoder.ts";

/**
 * The pure-TypeScript codec engine (`name: "ts"`), the reference the wasm
 * engine is checked against byte for byte.
 *
 * @example Encoding and decoding through the engine interface
 * ```ts
 * import { tsCodec } from "@tbwasm/sdk/codec";
 * const bytes = tsCodec.encode({ type: "pingreq" });
 * const decoder = tsCodec.createDecoder({ protocolVersion: 5 });
 * console.log(decoder.push(bytes)); // [ { type: "pingreq" } ]
 * ```
 */
export const tsCodec: Codec = {
  name: "ts",
  encodedLength,
  encodeInto,
  encode,
  createDecoder(options?: DecoderOptions) {
    return new MqttDecoder(options);
  },
};
