// Entry point: everything the host calls. See wasm/mod.ts for the glue.

export {
  ARENA,
  KEY_DATA,
  KEY_INDEX,
  MEMORY_END,
  RESULT,
  POW10_G,
  SCRATCH,
  SCRATCH_SIZE,
} from "./layout";
export {
  decodeAck,
  decodeNext,
  decodePublish,
  encodeAck,
  encodePublishHead,
  framePublishBefore,
  split,
} from "./frame";
export { batchPublish, batchToJson, tapePublish, tapeToJson } from "./json";
import { writeNumber } from "./dtoa";

/** Formats one f64 at `dst` as Number#toString does; returns the byte count (tests). */
export function formatNumber(dst: usize, value: f64): i32 {
  return <i32>(writeNumber(dst, value) - dst);
}
