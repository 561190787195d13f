/**
 * The float formatter's table (Schubfach, see assembly/dtoa.ts): 10^e scaled
 * to 126 bits for e = -292..324, computed exactly with `bigint` at start-up
 * instead of being stored in the module (9.6 KiB it need not carry).
 *
 * @module
 */

/** Smallest exponent in the table. */
const E_MIN = -292;
/** Largest exponent in the table. */
const E_MAX = 324;
const MASK64 = (1n << 64n) - 1n;

/** floor(log2(10^e)), as the formatter computes it. */
function flog2pow10(e: number): bigint {
  return (BigInt(e) * 913124641741n) >> 38n;
}

/**
 * Writes g = floor(10^e * 2^(125 - floor(log2 10^e))) + 1 for every e, as
 * little-endian 128-bit entries (low word first) from `at`. Exact and
 * incremental: 10^e by repeated multiplication for e >= 0, and
 * floor(2^S / 10^k) by repeated division by 10 for e = -k < 0 (floor of a
 * floor is the floor of the whole quotient), which is several times faster
 * than dividing by each power of 10.
 *
 * @param memory The module's memory.
 * @param at Byte address of the table (assembly/layout.ts POW10_G).
 */
export function writePow10Table(memory: ArrayBuffer, at: number): void {
  const view = new DataView(memory);
  const put = (e: number, g: bigint) => {
    const offset = at + (e - E_MIN) * 16;
    view.setBigUint64(offset, g & MASK64, true);
    view.setBigUint64(offset + 8, g >> 64n, true);
  };
  let p = 1n; // 10^e
  for (let e = 0; e <= E_MAX; e++) {
    const shift = 125n - flog2pow10(e);
    put(e, (shift >= 0n ? p << shift : p >> -shift) + 1n);
    p *= 10n;
  }
  const s = 125n - flog2pow10(E_MIN); // the largest shift
  let q = 1n << s; // floor(2^s / 10^-e)
  for (let e = -1; e >= E_MIN; e--) {
    q /= 10n;
    put(e, (q >> (s - (125n - flog2pow10(e)))) + 1n);
  }
}
