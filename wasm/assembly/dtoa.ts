// Shortest round-trip double formatting, byte-identical to ECMAScript
// Number::toString (and so to JSON.stringify for finite numbers).
//
// Digits: the Schubfach method (see toDecimal), one 64x128-bit product per
// value and no digit-by-digit loop; its 617-entry table of 126-bit powers of
// ten is computed by the host at start-up (wasm/_tables.ts), so it costs no
// module bytes. Integers below 2^53 and values with at most 6 decimals take
// exact fast paths first. Digits are written eight at a time (digits8).
//
// Layout: ECMA-262 Number::toString steps 6-10 (plain notation for decimal
// exponents -7 < n <= 21, exponential otherwise).

import { POW10_G } from "./layout";

// floor(log10(2^q)) for |q| <= 1100.
@inline function flog10pow2(q: i32): i32 {
  return <i32>((<i64>q * 661971961083) >> 41);
}
// floor(log10(3/4 * 2^q)) for |q| <= 1100.
@inline function flog10threeQuartersPow2(q: i32): i32 {
  return <i32>((<i64>q * 661971961083 - 274743187321) >> 41);
}
// floor(log2(10^e)) for |e| <= 400.
@inline function flog2pow10(e: i32): i32 {
  return <i32>((<i64>e * 913124641741) >> 38);
}

// High word of the 128-bit product a * b, from 32-bit halves (the low word
// is plain a * b).
@inline function mulhi(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff;
  const aHi = a >> 32;
  const bLo = b & 0xffffffff;
  const bHi = b >> 32;
  const mid1 = aHi * bLo + ((aLo * bLo) >> 32);
  const mid2 = aLo * bHi + (mid1 & 0xffffffff);
  return aHi * bHi + (mid1 >> 32) + (mid2 >> 32);
}

// Round to odd of a 192-bit product (p2:p1, the low word dropped) divided by
// 2^127: floor, with the lowest bit set when any of bits 64..126 is.
@inline function roundOdd(p2: u64, p1: u64): u64 {
  return (p2 << 1) | (p1 >> 63) | ((p1 & 0x7fffffffffffffff) != 0 ? 1 : 0);
}

// Decimal significand and exponent of the shortest form.
let outMantissa: u64 = 0;
let outExponent: i32 = 0;

/**
 * Shortest round-trip decimal of c * 2^q (c > 0) with the Schubfach method
 * (Raffaello Giulietti, "The Schubfach way to render doubles", 2020), written
 * from the paper. With k = floor(log10 of the rounding interval's width), the
 * interval scaled by 10^-k is narrower than 10 and at least 1 wide, so it
 * holds at most one multiple of 10 (the shortest form when present) and else
 * s = floor(v * 10^-k) or s + 1, whichever is closest (ties to even), as
 * ECMA-262 Number::toString requires. The three scaled values are computed to
 * two fractional bits with round-to-odd, which keeps every comparison exact;
 * one 64x128-bit product serves all three (they differ by g << h).
 */
function toDecimal(c: u64, q: i32, asymmetric: bool): void {
  const out: u64 = c & 1;
  const cb = c << 2;
  // Just above a power of two the interval's lower half is half as wide.
  const k = asymmetric ? flog10threeQuartersPow2(q) : flog10pow2(q);
  const h = q + flog2pow10(-k) + 2; // 2..5
  const gp = <usize>POW10_G + (<usize>(292 - k) << 4);
  const gLo = load<u64>(gp);
  const gHi = load<u64>(gp, 8);
  // P = (cb << h) * g as three words p2:p1:p0 (p0 is not needed).
  const cp = cb << <u64>h;
  const a0 = cp * gLo;
  const a1 = mulhi(cp, gLo);
  const b0 = cp * gHi;
  const b1 = mulhi(cp, gHi);
  const p1 = b0 + a1;
  const p2 = b1 + (p1 < a1 ? 1 : 0);
  // D = g << (h + 1): the product's step for 2 units of cb.
  const sh = <u64>(h + 1);
  const d0 = gLo << sh;
  const d1 = (gHi << sh) | (gLo >> (64 - sh));
  const d2 = gHi >> (64 - sh);
  const vb = roundOdd(p2, p1);
  // Upper bound: P + D.
  const r0 = a0 + d0;
  const r1a = p1 + d1;
  const r1 = r1a + (r0 < a0 ? 1 : 0);
  const r2 = p2 + d2 + (r1a < p1 || r1 < r1a ? 1 : 0);
  const vbr = roundOdd(r2, r1);
  // Lower bound: P - D, or P - D / 2 in the asymmetric case.
  const e0 = asymmetric ? (d0 >> 1) | (d1 << 63) : d0;
  const e1 = asymmetric ? (d1 >> 1) | (d2 << 63) : d1;
  const e2 = asymmetric ? d2 >> 1 : d2;
  const l1a = p1 - e1;
  const l1 = l1a - (a0 < e0 ? 1 : 0);
  const l2 = p2 - e2 - (p1 < e1 || l1a < l1 ? 1 : 0);
  const vbl = roundOdd(l2, l1);

  const s = vb >> 2;
  const s10 = s / 10; // i64.div_u: measured faster here than a multiply-high from 32-bit halves
  const sp10 = s10 * 10;
  const tp10 = sp10 + 10;
  const t = s + 1;
  // Which candidates lie in the interval (inclusive bounds for even c, where
  // round-half-even reads a boundary back as v). Branch-free: the outcomes are
  // data-dependent and unpredictable.
  const upin = <u32>(vbl + out <= sp10 << 2);
  const wpin = <u32>((tp10 << 2) + out <= vbr);
  const uin = <u32>(vbl + out <= s << 2);
  const win = <u32>((t << 2) + out <= vbr);
  const mid = (s + t) << 1;
  const closerT = <u32>(vb > mid) | (<u32>(vb == mid) & <u32>(s & 1));
  const pickT = select<u32>(win, closerT, uin ^ win);
  const shorter = upin ^ wpin;
  // One digit shorter (a multiple of ten), or s or t.
  let m = select<u64>(s10 + <u64>wpin, s + <u64>pickT, shorter);
  let e = k + <i32>shorter;
  // Strip trailing zeros (only a shorter form has any): exact division by 10
  // through the inverse of 5, with its divisibility test.
  while (true) {
    const d = (m >> 1) * 0xcccccccccccccccd;
    if (((<u32>m & 1) == 0) & (d <= 0x3333333333333333)) {
      m = d;
      e++;
    } else {
      break;
    }
  }
  outMantissa = m;
  outExponent = e;
}

@inline function decimalLength32(v: u32): i32 {
  if (v < 100000) {
    if (v < 100) return v < 10 ? 1 : 2;
    return v < 1000 ? 3 : v < 10000 ? 4 : 5;
  }
  if (v < 10000000) return v < 1000000 ? 6 : 7;
  return v < 100000000 ? 8 : v < 1000000000 ? 9 : 10;
}

// 10^0..10^19 for decimalLength.
const POW10_U64 = memory.data<u64>([
  1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000, 10000000000,
  100000000000, 1000000000000, 10000000000000, 100000000000000, 1000000000000000,
  10000000000000000, 100000000000000000, 1000000000000000000, 10000000000000000000,
]);

// Digits of v (1 for 0) without data-dependent branches: floor(bits * log10(2))
// from the bit length, corrected by one table compare.
@inline function decimalLength(v: u64): i32 {
  const t = <i32>(((64 - <i32>clz(v)) * 1233) >> 12);
  const n = t + (v >= load<u64>(POW10_U64 + (<usize>t << 3)) ? 1 : 0);
  return n == 0 ? 1 : n;
}

// Eight ASCII digits of v < 10^8 (zero-padded), first digit in the lowest
// byte, computed in parallel lanes of one u64 (no table, no loop): split into
// two 4-digit halves (32-bit lanes), each into two 2-digit parts (16-bit
// lanes), each into two digits (bytes). The multiply-shift quotients are
// exact for the lane ranges: n * 5243 >> 19 == n / 100 for n < 10^4 and
// m * 103 >> 10 == m / 10 for m < 100, and no product crosses its lane.
@inline function digits8(v: u32): u64 {
  const hi = v / 10000;
  let x = <u64>hi | (<u64>(v - hi * 10000) << 32);
  const h = ((x * 5243) >> 19) & 0x0000007f0000007f;
  x = h | ((x - h * 100) << 16);
  const t = ((x * 103) >> 10) & 0x000f000f000f000f;
  return (t | ((x - t * 10) << 8)) | 0x3030303030303030;
}

// "00".."99", two ASCII bytes each.
const DIGITS2 = memory.data<u8>([
  48, 48, 48, 49, 48, 50, 48, 51, 48, 52, 48, 53, 48, 54, 48, 55, 48, 56, 48, 57, 49, 48, 49, 49, 49, 50, 49, 51, 49, 52, 49, 53, 49, 54, 49, 55, 49, 56, 49, 57, 50, 48, 50, 49, 50, 50, 50, 51, 50, 52, 50, 53, 50, 54, 50, 55, 50, 56, 50, 57, 51, 48, 51, 49, 51, 50, 51, 51, 51, 52, 51, 53, 51, 54, 51, 55, 51, 56, 51, 57, 52, 48, 52, 49, 52, 50, 52, 51, 52, 52, 52, 53, 52, 54, 52, 55, 52, 56, 52, 57, 53, 48, 53, 49, 53, 50, 53, 51, 53, 52, 53, 53, 53, 54, 53, 55, 53, 56, 53, 57, 54, 48, 54, 49, 54, 50, 54, 51, 54, 52, 54, 53, 54, 54, 54, 55, 54, 56, 54, 57, 55, 48, 55, 49, 55, 50, 55, 51, 55, 52, 55, 53, 55, 54, 55, 55, 55, 56, 55, 57, 56, 48, 56, 49, 56, 50, 56, 51, 56, 52, 56, 53, 56, 54, 56, 55, 56, 56, 56, 57, 57, 48, 57, 49, 57, 50, 57, 51, 57, 52, 57, 53, 57, 54, 57, 55, 57, 56, 57, 57
]);

// Writes exactly `length` digits of `v` (zero-padded) ending just before `end`.
@inline function writeU32Backward(end: usize, v: u32, length: i32): void {
  while (length >= 2) {
    const q = v / 100;
    store<u16>(end - 2, load<u16>(DIGITS2 + (<usize>(v - q * 100) << 1)));
    end -= 2;
    v = q;
    length -= 2;
  }
  if (length != 0) store<u8>(end - 1, <u8>(48 + v));
}

@inline function writeU32(dst: usize, v: u32): usize {
  const n = decimalLength32(v);
  writeU32Backward(dst + n, v, n);
  return dst + n;
}

// Writes exactly `length` (1..17) digits of v < 10^length, zero-padded, from
// dst: eight-digit words stored forward, the first shifted so that its
// leading digits land at dst (may write up to 7 bytes past dst + length;
// callers leave that slack).
@inline function writeFixed(dst: usize, v: u64, length: i32): void {
  if (length <= 8) {
    store<u64>(dst, digits8(<u32>v) >> (<u64>(8 - length) << 3));
    return;
  }
  const hi = <u32>(v / 100000000);
  const lo = digits8(<u32>(v - <u64>hi * 100000000));
  if (length <= 16) {
    store<u64>(dst, digits8(hi) >> (<u64>(16 - length) << 3));
  } else {
    const top = hi / 100000000;
    store<u8>(dst, <u8>(48 + top));
    store<u64>(dst + 1, digits8(hi - top * 100000000));
  }
  store<u64>(dst + <usize>length - 8, lo);
}

// A non-negative integer below 2^53.
@inline function writeInt53(dst: usize, a: f64): usize {
  const v = <u64>a;
  const n = decimalLength(v);
  writeFixed(dst, v, n);
  return dst + <usize>n;
}

/**
 * Values with at most 6 decimals and |v| in [1e-6, 1e9), not integers, given
 * n = round(|v| * 10^6): n is exact to within 0.5 of the 6-decimal string,
 * and n / 10^6 == |v| (a correctly rounded division) says that string reads
 * back as v. Below 1e9 an ulp is under 10^-6, so no other 6-decimal string
 * reads back as v: the shortest round-trip digits are n without its trailing
 * zeros, which is what Number::toString prints. Returns 0 when v is not such
 * a number.
 */
@inline function writeShortDecimal(dst: usize, a: f64, n: f64): usize {
  if (n / 1000000.0 != a) return 0;
  const ip = Math.floor(a); // a is not an integer, so n / 10^6 has the same integer part
  let fp = <u32>(n - ip * 1000000.0); // 1..999999
  let d = 6;
  while (fp % 10 == 0) {
    fp /= 10;
    d--;
  }
  dst = writeU32(dst, <u32>ip);
  store<u8>(dst, 46); // "."
  writeU32Backward(dst + 1 + d, fp, d);
  return dst + 1 + d;
}

/**
 * Writes `value` as ECMAScript Number::toString does. `value` must be finite.
 * Returns the end pointer. At most 25 bytes are written, and up to 7 more
 * bytes after the end may be overwritten with garbage (callers leave room).
 */
export function writeNumber(dst: usize, value: f64): usize {
  // Fast path: integers of magnitude below 2^53 (counters, timestamps).
  if (value == Math.floor(value) && Math.abs(value) < 9007199254740992.0) {
    if (value < 0) {
      store<u8>(dst++, 45); // "-"
      value = -value;
    }
    return writeInt53(dst, value); // -0 prints "0"
  }
  const bits = reinterpret<u64>(value);
  if (bits >> 63) {
    store<u8>(dst++, 45);
  }
  const a = Math.abs(value);
  if (a >= 0.000001 && a < 1000000000.0) {
    // Below 10^6, |v| * 10^6 is within 10^-3 of an integer for every value
    // with at most 6 decimals; most other values fail this cheap test first.
    const p = a * 1000000.0;
    const n = Math.floor(p + 0.5);
    if (a >= 1000000.0 || Math.abs(p - n) < 0.001) {
      const end = writeShortDecimal(dst, a, n);
      if (end != 0) return end;
    }
  }
  const fraction = bits & 0xfffffffffffff;
  const biased = <i32>((bits >> 52) & 0x7ff);
  if (biased == 0) {
    toDecimal(fraction, -1074, false);
  } else {
    toDecimal(fraction | 0x10000000000000, biased - 1075, fraction == 0 && biased > 1);
  }
  const m = outMantissa;
  const k = decimalLength(m);
  const n = outExponent + k; // position of the decimal point
  if (0 < n && n <= 21) {
    if (k <= n) {
      // Integer with trailing zeros: digits then n - k zeros.
      writeFixed(dst, m, k);
      for (let i = k; i < n; i += 8) store<u64>(dst + <usize>i, 0x3030303030303030);
      return dst + <usize>n;
    }
    // Digits with a point inside. The integer part is floor(|v|): an integer
    // between the digits and v would be a shorter form that reads back as v.
    const ip = <u64>Math.floor(a);
    const fl = k - n;
    writeFixed(dst, ip, n);
    store<u8>(dst + <usize>n, 46); // "."
    writeFixed(dst + <usize>n + 1, m - ip * load<u64>(POW10_U64 + (<usize>fl << 3)), fl);
    return dst + <usize>k + 1;
  }
  if (-6 < n && n <= 0) {
    // 0.000ddd: "0." and up to six zeros, then the digits over the excess zeros.
    store<u64>(dst, 0x3030303030302e30);
    writeFixed(dst + <usize>(2 - n), m, k);
    return dst + <usize>(2 - n + k);
  }
  // Exponential: d[.ddd]e±x
  if (k == 1) {
    store<u8>(dst, <u8>(48 + <u32>m));
    dst += 1;
  } else {
    writeFixed(dst + 1, m, k);
    store<u8>(dst, load<u8>(dst + 1));
    store<u8>(dst + 1, 46); // "."
    dst += <usize>k + 1;
  }
  let e = n - 1;
  // "e+" or "e-"
  if (e < 0) {
    store<u16>(dst, 0x2d65);
    e = -e;
  } else {
    store<u16>(dst, 0x2b65);
  }
  dst += 2;
  // 1 to 3 exponent digits (e <= 324).
  const l = e >= 100 ? 3 : e >= 10 ? 2 : 1;
  writeFixed(dst, <u64>e, l);
  return dst + <usize>l;
}
