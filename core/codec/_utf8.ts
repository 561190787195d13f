/**
 * UTF-8 helpers for MQTT strings: length by a char loop, encode byte by byte
 * with an ASCII fast path, and strict decode (well-formed, no U+0000, no
 * surrogates). [MQTT-1.5.4-1] [MQTT-1.5.4-2]
 *
 * @module
 */

/** Returned by {@linkcode utf8Length} for a lone UTF-16 surrogate. */
export const LONE_SURROGATE = -1;
/** Returned by {@linkcode utf8Length} for U+0000. */
export const NULL_CHARACTER = -2;

/**
 * UTF-8 byte length of `s`, or {@linkcode LONE_SURROGATE} /
 * {@linkcode NULL_CHARACTER} when `s` cannot be an MQTT string.
 */
export function utf8Length(s: string): number {
  let n = 0;
  const len = s.length;
  for (let i = 0; i < len; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) {
      if (c === 0) return NULL_CHARACTER; // [MQTT-1.5.4-2]
      n += 1;
    } else if (c < 0x800) {
      n += 2;
    } else if (c < 0xd800 || c > 0xdfff) {
      n += 3;
    } else {
      // [MQTT-1.5.4-1] a surrogate must be a high one followed by a low one.
      const d = i + 1 < len ? s.charCodeAt(i + 1) : 0;
      if (c > 0xdbff || d < 0xdc00 || d > 0xdfff) return LONE_SURROGATE;
      i++;
      n += 4;
    }
  }
  return n;
}

/**
 * Writes `s` as UTF-8 at `pos` (no length prefix); returns the new position.
 * `s` must have passed {@linkcode utf8Length}.
 */
export function writeUtf8(buf: Uint8Array, pos: number, s: string): number {
  const len = s.length;
  for (let i = 0; i < len; i++) {
    let c = s.charCodeAt(i);
    if (c < 0x80) {
      buf[pos++] = c;
    } else if (c < 0x800) {
      buf[pos++] = 0xc0 | (c >> 6);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else if (c < 0xd800 || c > 0xdfff) {
      buf[pos++] = 0xe0 | (c >> 12);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    } else {
      c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      buf[pos++] = 0xf0 | (c >> 18);
      buf[pos++] = 0x80 | ((c >> 12) & 0x3f);
      buf[pos++] = 0x80 | ((c >> 6) & 0x3f);
      buf[pos++] = 0x80 | (c & 0x3f);
    }
  }
  return pos;
}

const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

/** Longest ASCII string built char by char; longer ones go through TextDecoder. */
const ASCII_LOOP_MAX = 64;

/**
 * Decodes `buf[start..end)` as an MQTT UTF-8 string. Returns `undefined` when
 * the bytes are not well-formed UTF-8 (overlong forms, encoded surrogates,
 * code points above U+10FFFF are all ill-formed) or contain U+0000.
 */
export function readUtf8(buf: Uint8Array, start: number, end: number): string | undefined {
  let ascii = true;
  for (let i = start; i < end; i++) {
    const b = buf[i]!;
    if (b === 0) return undefined; // [MQTT-1.5.4-2]
    if (b >= 0x80) ascii = false;
  }
  if (ascii && end - start <= ASCII_LOOP_MAX) {
    let s = "";
    for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
    return s;
  }
  try {
    // [MQTT-1.5.4-1] the fatal decoder rejects ill-formed UTF-8, including
    // encodings of U+D800..U+DFFF.
    return decoder.decode(buf.subarray(start, end));
  } catch {
    return undefined;
  }
}
