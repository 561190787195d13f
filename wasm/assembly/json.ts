// JSON text from a tape the host writes (keys and values in order), and the
// columnar batch serializer. Output is byte-identical to JSON.stringify
// followed by UTF-8 encoding; the host hands lone-surrogate strings over as
// raw, already escaped fragments.

import { writeNumber } from "./dtoa";
import { framePublishBefore } from "./frame";
import { KEY_DATA, KEY_INDEX, R_ERROR_AT, R_FRAME_LENGTH } from "./layout";

// Tape operations (one byte each, then operands, little-endian, unaligned).
const OP_END: u8 = 0;
const OP_OBJ: u8 = 1; // {
const OP_OBJ_END: u8 = 2; // }
const OP_ARR: u8 = 3; // [
const OP_ARR_END: u8 = 4; // ]
const OP_KEY: u8 = 5; // u32 length, UTF-8 bytes
const OP_NUM: u8 = 6; // f64
const OP_STR: u8 = 7; // u32 length, UTF-8 bytes
const OP_TRUE: u8 = 8;
const OP_FALSE: u8 = 9;
const OP_NULL: u8 = 10;
const OP_RAW: u8 = 11; // u32 length, bytes copied verbatim
const OP_RAW_KEY: u8 = 12; // u32 length, `"key":` copied verbatim
const OP_KEY_ID: u8 = 13; // u16 id of a registered `"key":` fragment

/** Result codes (negative). */
export const ERR_NON_FINITE: i32 = -2;
export const ERR_NO_SPACE: i32 = -3;
export const ERR_BAD_TAPE: i32 = -4;


const HEX: u32 = 0x30; // "0"

// Writes `"` + escaped UTF-8 + `"`. Escapes as JSON.stringify does:
// \" \\ \b \f \n \r \t, other controls as \u00xx; nothing else.
export function writeString(dst: usize, src: usize, length: usize): usize {
  store<u8>(dst++, 34);
  const end = src + length;
  while (src < end) {
    const c = load<u8>(src++);
    if (c >= 0x20 && c != 34 && c != 92) {
      store<u8>(dst++, c);
      continue;
    }
    store<u8>(dst++, 92); // backslash
    if (c == 34 || c == 92) {
      store<u8>(dst++, c);
    } else if (c == 8) {
      store<u8>(dst++, 98); // b
    } else if (c == 9) {
      store<u8>(dst++, 116); // t
    } else if (c == 10) {
      store<u8>(dst++, 110); // n
    } else if (c == 12) {
      store<u8>(dst++, 102); // f
    } else if (c == 13) {
      store<u8>(dst++, 114); // r
    } else {
      store<u32>(dst, 0x30303075); // "u000", the last byte is overwritten
      dst += 3;
      store<u8>(dst++, <u8>(HEX + (c >> 4)));
      const lo = c & 15;
      store<u8>(dst++, <u8>(lo < 10 ? HEX + lo : 87 + lo));
    }
  }
  store<u8>(dst++, 34);
  return dst;
}

/**
 * {@link tapeToJson} at `dst`, then a PUBLISH header (topic UTF-8 at
 * `topicSrc`, see framePublishBefore) written just before it, in one call.
 * Returns the packet's start (its length in R_FRAME_LENGTH), a negative code,
 * or 0 when the packet would be too large.
 */
export function tapePublish(
  tape: usize,
  dst: usize,
  cap: usize,
  topicSrc: usize,
  topicLen: u32,
  flags: u32,
  id: u32,
  version: u32,
): i32 {
  const n = tapeToJson(tape, dst, cap);
  if (n < 0) return n;
  return frameJson(dst, dst + <usize>n, topicSrc, topicLen, flags, id, version);
}

// Writes the PUBLISH header before the JSON at [dst, end) and stores the
// packet's length in R_FRAME_LENGTH. Returns its start, or 0 when too large.
@inline function frameJson(
  dst: usize,
  end: usize,
  topicSrc: usize,
  topicLen: u32,
  flags: u32,
  id: u32,
  version: u32,
): i32 {
  const start = framePublishBefore(dst, <u32>(end - dst), topicSrc, topicLen, flags, id, version);
  if (start == 0) return 0;
  store<u32>(R_FRAME_LENGTH, <u32>(end - start));
  return <i32>start;
}

// Copies `n` bytes 8 at a time; may write up to 7 bytes past dst + n (the
// callers' bounds leave that slack) and read up to 7 past src + n.
@inline function copyShort(dst: usize, src: usize, n: usize): void {
  const end = dst + n;
  while (dst < end) {
    store<u64>(dst, load<u64>(src));
    dst += 8;
    src += 8;
  }
}

/**
 * Interprets the tape at `tape` and writes JSON at `dst` (at most `cap`
 * bytes). Returns bytes written or a negative code. The worst case output per
 * tape byte is bounded (6 per string byte, 25 per f64), checked per item.
 */
export function tapeToJson(tape: usize, dst: usize, cap: usize): i32 {
  const start = dst;
  const limit = dst + cap;
  let p = tape;
  let first = true;
  let afterKey = false;
  while (true) {
    const op = load<u8>(p++);
    if (op == OP_END) break;
    if (op == OP_OBJ_END || op == OP_ARR_END) {
      if (dst + 1 > limit) return ERR_NO_SPACE;
      store<u8>(dst++, op == OP_OBJ_END ? 125 : 93);
      first = false;
      continue;
    }
    if (op == OP_KEY_ID) {
      const entry = load<u32>(KEY_INDEX + (<usize>load<u16>(p) << 2));
      const n = <usize>(entry >> 16);
      if (dst + 8 + n > limit) return ERR_NO_SPACE;
      if (!first) store<u8>(dst++, 44);
      first = false;
      copyShort(dst, KEY_DATA + (entry & 0xffff), n);
      dst += n;
      p += 2;
      afterKey = true;
      continue;
    }
    if (op == OP_KEY || op == OP_RAW_KEY) {
      const n = load<u32>(p);
      if (dst + 8 + <usize>n * 6 > limit) return ERR_NO_SPACE;
      if (!first) store<u8>(dst++, 44);
      first = false;
      if (op == OP_KEY) {
        dst = writeString(dst, p + 4, n);
        store<u8>(dst++, 58); // ":"
      } else {
        memory.copy(dst, p + 4, n);
        dst += n;
      }
      p += 4 + n;
      afterKey = true;
      continue;
    }
    // A value: a comma unless it follows a key or opens a container. A number
    // takes at most 25 bytes and its writer may scribble 7 past its end.
    if (dst + 40 > limit) return ERR_NO_SPACE;
    if (afterKey) {
      afterKey = false;
    } else if (!first) {
      store<u8>(dst++, 44);
    }
    first = false;
    if (op == OP_NUM) {
      const v = load<f64>(p);
      if (v - v != 0) {
        store<u32>(R_ERROR_AT, <u32>(p - tape));
        return ERR_NON_FINITE;
      }
      dst = writeNumber(dst, v);
      p += 8;
    } else if (op == OP_STR || op == OP_RAW) {
      const n = load<u32>(p);
      if (dst + 2 + <usize>n * 6 > limit) return ERR_NO_SPACE;
      if (op == OP_STR) {
        dst = writeString(dst, p + 4, n);
      } else {
        memory.copy(dst, p + 4, n);
        dst += n;
      }
      p += 4 + n;
    } else if (op == OP_OBJ) {
      store<u8>(dst++, 123);
      first = true;
    } else if (op == OP_ARR) {
      store<u8>(dst++, 91);
      first = true;
    } else if (op == OP_TRUE) {
      store<u32>(dst, 0x65757274); // "true"
      dst += 4;
    } else if (op == OP_FALSE) {
      store<u32>(dst, 0x736c6166); // "fals"
      store<u8>(dst + 4, 101);
      dst += 5;
    } else if (op == OP_NULL) {
      store<u32>(dst, 0x6c6c756e); // "null"
      dst += 4;
    } else {
      store<u32>(R_ERROR_AT, <u32>(p - 1 - tape));
      return ERR_BAD_TAPE;
    }
  }
  return <i32>(dst - start);
}

// Writes the batch at `dst`; returns the end, or 0 with the error code in batchError.
let batchError: i32 = 0;
function writeBatch(
  tsPtr: usize,
  valuesPtr: usize,
  rows: u32,
  cols: u32,
  keysPtr: usize,
  keysLen: u32,
  dst: usize,
  cap: usize,
): usize {
  const limit = dst + cap;
  const perRow = 56 + <usize>keysLen + <usize>cols * 26; // with 7 bytes of writer slack
  store<u8>(dst++, 91);
  let row = valuesPtr;
  for (let r: u32 = 0; r < rows; r++) {
    if (dst + perRow > limit) {
      batchError = ERR_NO_SPACE;
      return 0;
    }
    if (r != 0) store<u8>(dst++, 44);
    store<u32>(dst, 0x7374227b); // {"ts
    store<u16>(dst + 4, 0x3a22); // ":
    dst += 6;
    const ts = load<f64>(tsPtr + (<usize>r << 3));
    if (ts - ts != 0) {
      store<u32>(R_ERROR_AT, 0xffffffff);
      batchError = ERR_NON_FINITE;
      return 0;
    }
    dst = writeNumber(dst, ts);
    store<u64>(dst, 0x7365756c6176222c); // ,"values
    store<u32>(dst + 8, 0x7b3a22); // ":{
    dst += 11;
    let k = keysPtr;
    for (let c: u32 = 0; c < cols; c++) {
      const n = <usize>load<u32>(k);
      copyShort(dst, k + 4, n);
      dst += n;
      k += 4 + n;
      const v = load<f64>(row + (<usize>c << 3));
      if (v - v != 0) {
        store<u32>(R_ERROR_AT, r * cols + c);
        batchError = ERR_NON_FINITE;
        return 0;
      }
      dst = writeNumber(dst, v);
      store<u8>(dst++, 44); // ",", replaced by "}" after the last value
    }
    row += <usize>cols << 3;
    store<u16>(dst - 1, 0x7d7d); // }}
    dst += 1;
  }
  if (dst + 1 > limit) {
    batchError = ERR_NO_SPACE;
    return 0;
  }
  store<u8>(dst++, 93);
  return dst;
}

/**
 * Serializes a columnar batch: `rows` rows of `ts` (f64 at `tsPtr`) and
 * `cols` (at least one) f64 values each (row-major at `valuesPtr`), with the
 * keys given as pre-rendered `"key":` fragments at `keysPtr` (u32 length +
 * bytes each). Writes `[{"ts":…,"values":{…}},…]`. Returns bytes or a
 * negative code; on ERR_NON_FINITE, R_ERROR_AT holds the index of the value
 * (row * cols + col).
 */
export function batchToJson(
  tsPtr: usize,
  valuesPtr: usize,
  rows: u32,
  cols: u32,
  keysPtr: usize,
  keysLen: u32,
  dst: usize,
  cap: usize,
): i32 {
  const end = writeBatch(tsPtr, valuesPtr, rows, cols, keysPtr, keysLen, dst, cap);
  return end == 0 ? batchError : <i32>(end - dst);
}

/**
 * {@link batchToJson} at `dst`, then a PUBLISH header (topic UTF-8 at
 * `topicSrc`, see framePublishBefore) written just before it, in one call.
 * Returns the packet's start (its length in R_FRAME_LENGTH) or a negative
 * code (0 when the packet would be too large).
 */
export function batchPublish(
  tsPtr: usize,
  valuesPtr: usize,
  rows: u32,
  cols: u32,
  keysPtr: usize,
  keysLen: u32,
  dst: usize,
  cap: usize,
  topicSrc: usize,
  topicLen: u32,
  flags: u32,
  id: u32,
  version: u32,
): i32 {
  const end = writeBatch(tsPtr, valuesPtr, rows, cols, keysPtr, keysLen, dst, cap);
  if (end == 0) return batchError;
  return frameJson(dst, end, topicSrc, topicLen, flags, id, version);
}
