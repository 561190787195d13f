/**
 * Owned bytes without an `ArrayBuffer` per packet: small results are carved
 * out of shared 64 KiB slabs (as Node's `Buffer` pool does), so encoding and
 * decoding allocate only a view. A slab lives as long as any view into it;
 * `bytes.buffer` is the slab, use `byteOffset`/`byteLength` with it.
 *
 * @module
 */

const SLAB_SIZE = 64 * 1024;
/** Larger results get their own buffer. */
const SLAB_MAX = 8 * 1024;

let slab = new Uint8Array(SLAB_SIZE);
let used = 0;

/** A zeroed, owned view of `length` bytes. */
export function allocate(length: number): Uint8Array {
  if (length > SLAB_MAX) return new Uint8Array(length);
  if (used + length > SLAB_SIZE) {
    slab = new Uint8Array(SLAB_SIZE);
    used = 0;
  }
  const start = used;
  used = (used + length + 7) & ~7; // keep views 8-byte aligned
  return slab.subarray(start, start + length);
}

/** An owned copy of `source[start, end)`. */
export function copyOf(source: Uint8Array, start: number, end: number): Uint8Array {
  const length = end - start;
  const out = allocate(length);
  if (length <= 96) {
    for (let i = 0; i < length; i++) out[i] = source[start + i]!;
  } else {
    out.set(source.subarray(start, end));
  }
  return out;
}
