/**
 * Telemetry serialization for ThingsBoard: JSON byte-identical to
 * `JSON.stringify` + UTF-8, on the wasm engine (default) or the TS engine,
 * alone or fused with PUBLISH framing, plus a columnar batch.
 *
 * @example Telemetry straight to PUBLISH bytes
 * ```ts
 * import { encodeTelemetryPublish } from "@tbwasm/sdk/telemetry";
 * const packet = encodeTelemetryPublish("v1/devices/me/telemetry", {
 *   temperature: 21.5,
 *   humidity: 40,
 *   active: true,
 * });
 * ```
 *
 * @module
 */

export {
  encodeAttributesPublish,
  encodeTelemetryJson,
  encodeTelemetryPublish,
  encodeTelemetryPublishOutbound,
  type TelemetryEngine,
  type TelemetryPublishOptions,
  wasmPayloadSerializer,
} from "./encode.ts";
export { TelemetryBatch, type TelemetryBatchOptions } from "./batch.ts";
export type { OutboundBytes } from "../../wasm/_arena.ts";
