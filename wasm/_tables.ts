/**
 * Ryu's two 128-bit multiplier tables, computed exactly with `bigint` at
 * start-up instead of being stored in the module (10.7 KiB it need not carry).
 *
 * @module
 */

/** Entries of the 5^-q table (q = 0..341). */
const INV_ENTRIES = 342;
/** Entries of the 5^i table (i = 0..325). */
const ENTRIES = 326;
const BITCOUNT = 125n;
const MASK64 = (1n << 64n) - 1n;

/** ceil(log2(5^e)), 1 for e = 0 (Ryu's pow5bits). */
function pow5bits(e: number): bigint {
  return BigInt(((e * 1217359) >>> 19) + 1);
}

/**
 * Writes both tables, little-endian 128-bit entries (low word first): the
 * 5^-q table at `inv`, the 5^i table at `pos`.
 *
 * @param memory The module's memory.
 * @param inv Byte address of the 5^-q table.
 * @param pos Byte address of the 5^i table.
 */
export function writeRyuTables(memory: ArrayBuffer, inv: number, pos: number): void {
  const view = new DataView(memory);
  let pow = 1n;
  for (let i = 0; i < INV_ENTRIES; i++) {
    const bits = pow5bits(i);
    if (i < ENTRIES) {
      // top 125 bits of 5^i
      const shift = bits - BITCOUNT;
      const v = shift >= 0n ? pow >> shift : pow << -shift;
      view.setBigUint64(pos + i * 16, v & MASK64, true);
      view.setBigUint64(pos + i * 16 + 8, v >> 64n, true);
    }
    // floor(2^(pow5bits(i) - 1 + 125) / 5^i) + 1
    const v = (1n << (bits - 1n + BITCOUNT)) / pow + 1n;
    view.setBigUint64(inv + i * 16, v & MASK64, true);
    view.setBigUint64(inv + i * 16 + 8, v >> 64n, true);
    pow *= 5n;
  }
}
