// Shortest round-trip double formatting, byte-identical to ECMAScript
// Number::toString (and so to JSON.stringify for finite numbers).
//
// Digits: the Ryu algorithm (Ulf Adams, "Ryu: fast float-to-string
// conversion", PLDI 2018), written from the paper. Ryu yields the shortest
// digit string that reads back to the same double and, among those, the one
// closest to the exact value (ties to even), which is what ECMA-262 6.1.6.1.20
// asks for. The two 128-bit multiplier tables are computed by the host at
// start-up (see wasm/_tables.ts) so they cost no module bytes.
//
// Layout: ECMA-262 Number::toString steps 6-10 (plain notation for decimal
// exponents -7 < n <= 21, exponential otherwise).

import { POW5_INV_SPLIT, POW5_SPLIT } from "./layout";

const POW5_INV_BITCOUNT: i32 = 125;
const POW5_BITCOUNT: i32 = 125;

// ceil(log2(5^e)) for 0 < e <= 3528 (1 for e = 0).
@inline function pow5bits(e: i32): i32 {
  return <i32>((<u32>e * 1217359) >> 19) + 1;
}
// floor(log10(2^e)) for 0 <= e <= 1650.
@inline function log10Pow2(e: i32): i32 {
  return <i32>((<u32>e * 78913) >> 18);
}
// floor(log10(5^e)) for 0 <= e <= 2620.
@inline function log10Pow5(e: i32): i32 {
  return <i32>((<u32>e * 732923) >> 20);
}

function pow5Factor(value: u64): i32 {
  let count = 0;
  while (true) {
    const q = value / 5;
    if (value - q * 5 != 0) break;
    value = q;
    count++;
  }
  return count;
}

@inline function multipleOfPowerOf5(value: u64, p: i32): bool {
  return pow5Factor(value) >= p;
}

@inline function multipleOfPowerOf2(value: u64, p: i32): bool {
  return (value & ((<u64>1 << <u64>p) - 1)) == 0;
}

// High word of the last umul128.
let mulHigh: u64 = 0;

// 64x64 -> 128-bit product from 32-bit halves: returns the low word, the high
// word goes to mulHigh.
@inline function umul128(a: u64, b: u64): u64 {
  const aLo = a & 0xffffffff;
  const aHi = a >> 32;
  const bLo = b & 0xffffffff;
  const bHi = b >> 32;
  const b00 = aLo * bLo;
  const mid1 = aHi * bLo + (b00 >> 32);
  const mid2 = aLo * bHi + (mid1 & 0xffffffff);
  mulHigh = aHi * bHi + (mid1 >> 32) + (mid2 >> 32);
  return (mid2 << 32) | (b00 & 0xffffffff);
}

// (hi:lo) >> dist for 0 < dist < 64.
@inline function shiftRight128(lo: u64, hi: u64, dist: i32): u64 {
  const d = <u64>dist;
  return (hi << (64 - d)) | (lo >> d);
}

// Ryu's mulShiftAll64: vr = (4m * mul) >> j, and vp = ((4m + 2) * mul) >> j,
// vm = ((4m - 1 - mmShift) * mul) >> j from the same two products (the
// 128-bit multiplier at mulPtr, low word first; 64 < j < 128).
let vpOut: u64 = 0;
let vmOut: u64 = 0;
function mulShiftAll64(m: u64, mulPtr: usize, j: i32, mmShift: u64): u64 {
  m <<= 1;
  const mul0 = load<u64>(mulPtr);
  const mul1 = load<u64>(mulPtr, 8);
  const lo = umul128(m, mul0);
  const tmp = mulHigh;
  const low1 = umul128(m, mul1);
  let hi = mulHigh;
  const mid = tmp + low1;
  hi += mid < tmp ? 1 : 0;
  const lo2 = lo + mul0;
  const mid2 = mid + mul1 + (lo2 < lo ? 1 : 0);
  const hi2 = hi + (mid2 < mid ? 1 : 0);
  vpOut = shiftRight128(mid2, hi2, j - 65);
  if (mmShift == 1) {
    const lo3 = lo - mul0;
    const mid3 = mid - mul1 - (lo3 > lo ? 1 : 0);
    const hi3 = hi - (mid3 > mid ? 1 : 0);
    vmOut = shiftRight128(mid3, hi3, j - 65);
  } else {
    const lo3 = lo + lo;
    const mid3 = mid + mid + (lo3 < lo ? 1 : 0);
    const hi3 = hi + hi + (mid3 < mid ? 1 : 0);
    const lo4 = lo3 - mul0;
    const mid4 = mid3 - mul1 - (lo4 > lo3 ? 1 : 0);
    const hi4 = hi3 - (mid4 > mid3 ? 1 : 0);
    vmOut = shiftRight128(mid4, hi4, j - 64);
  }
  return shiftRight128(mid, hi, j - 65);
}

// Ryu outputs: decimal significand and exponent of the shortest form.
let outMantissa: u64 = 0;
let outExponent: i32 = 0;

// Ryu step 1-4 for a positive finite double given as IEEE fields.
function d2d(ieeeMantissa: u64, ieeeExponent: i32): void {
  let e2: i32;
  let m2: u64;
  if (ieeeExponent == 0) {
    e2 = 1 - 1023 - 52 - 2;
    m2 = ieeeMantissa;
  } else {
    e2 = ieeeExponent - 1023 - 52 - 2;
    m2 = (<u64>1 << 52) | ieeeMantissa;
  }
  const acceptBounds = (m2 & 1) == 0;
  const mv = m2 << 2;
  const mmShift: u64 = ieeeMantissa != 0 || ieeeExponent <= 1 ? 1 : 0;

  let vr: u64, vp: u64, vm: u64;
  let e10: i32;
  let vmIsTrailingZeros = false;
  let vrIsTrailingZeros = false;
  if (e2 >= 0) {
    const q = log10Pow2(e2) - (e2 > 3 ? 1 : 0);
    e10 = q;
    const k = POW5_INV_BITCOUNT + pow5bits(q) - 1;
    const i = -e2 + q + k;
    const mul = <usize>POW5_INV_SPLIT + (<usize>q << 4);
    vr = mulShiftAll64(m2, mul, i, mmShift);
    vp = vpOut;
    vm = vmOut;
    if (q <= 21) {
      if (mv % 5 == 0) {
        vrIsTrailingZeros = multipleOfPowerOf5(mv, q);
      } else if (acceptBounds) {
        vmIsTrailingZeros = multipleOfPowerOf5(mv - 1 - mmShift, q);
      } else {
        vp -= multipleOfPowerOf5(mv + 2, q) ? 1 : 0;
      }
    }
  } else {
    const q = log10Pow5(-e2) - (-e2 > 1 ? 1 : 0);
    e10 = q + e2;
    const i = -e2 - q;
    const k = pow5bits(i) - POW5_BITCOUNT;
    const j = q - k;
    const mul = <usize>POW5_SPLIT + (<usize>i << 4);
    vr = mulShiftAll64(m2, mul, j, mmShift);
    vp = vpOut;
    vm = vmOut;
    if (q <= 1) {
      vrIsTrailingZeros = true;
      if (acceptBounds) {
        vmIsTrailingZeros = mmShift == 1;
      } else {
        vp--;
      }
    } else if (q < 63) {
      vrIsTrailingZeros = multipleOfPowerOf2(mv, q);
    }
  }

  let removed = 0;
  let lastRemovedDigit: u64 = 0;
  let output: u64;
  if (vmIsTrailingZeros || vrIsTrailingZeros) {
    // Rare general case.
    while (true) {
      const vpDiv10 = div10(vp);
      const vmDiv10 = div10(vm);
      if (vpDiv10 <= vmDiv10) break;
      const vmMod10 = vm - vmDiv10 * 10;
      const vrDiv10 = div10(vr);
      const vrMod10 = vr - vrDiv10 * 10;
      vmIsTrailingZeros = vmIsTrailingZeros && vmMod10 == 0;
      vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
      lastRemovedDigit = vrMod10;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    if (vmIsTrailingZeros) {
      while (true) {
        const vmDiv10 = div10(vm);
        const vmMod10 = vm - vmDiv10 * 10;
        if (vmMod10 != 0) break;
        const vpDiv10 = div10(vp);
        const vrDiv10 = div10(vr);
        const vrMod10 = vr - vrDiv10 * 10;
        vrIsTrailingZeros = vrIsTrailingZeros && lastRemovedDigit == 0;
        lastRemovedDigit = vrMod10;
        vr = vrDiv10;
        vp = vpDiv10;
        vm = vmDiv10;
        removed++;
      }
    }
    if (vrIsTrailingZeros && lastRemovedDigit == 5 && vr % 2 == 0) {
      lastRemovedDigit = 4; // exact .5: round half to even
    }
    output = vr +
      ((vr == vm && (!acceptBounds || !vmIsTrailingZeros)) || lastRemovedDigit >= 5 ? 1 : 0);
  } else {
    // Common case: no trailing-zero bookkeeping.
    let roundUp = false;
    const vpDiv100 = vp / 100;
    const vmDiv100 = vm / 100;
    if (vpDiv100 > vmDiv100) {
      const vrDiv100 = vr / 100;
      roundUp = vr - vrDiv100 * 100 >= 50;
      vr = vrDiv100;
      vp = vpDiv100;
      vm = vmDiv100;
      removed += 2;
    }
    while (true) {
      if (vp <= 0xffffffff) {
        // The rest fits in 32 bits, where division by a constant is cheap.
        let p32 = <u32>vp;
        let m32 = <u32>vm;
        let r32 = <u32>vr;
        while (true) {
          const pd = p32 / 10;
          const md = m32 / 10;
          if (pd <= md) break;
          const rd = r32 / 10;
          roundUp = r32 - rd * 10 >= 5;
          r32 = rd;
          p32 = pd;
          m32 = md;
          removed++;
        }
        vr = r32;
        vm = m32;
        break;
      }
      const vpDiv10 = div10(vp);
      const vmDiv10 = div10(vm);
      if (vpDiv10 <= vmDiv10) break;
      const vrDiv10 = div10(vr);
      roundUp = vr - vrDiv10 * 10 >= 5;
      vr = vrDiv10;
      vp = vpDiv10;
      vm = vmDiv10;
      removed++;
    }
    output = vr + (vr == vm || roundUp ? 1 : 0);
  }
  outMantissa = output;
  outExponent = e10 + removed;
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

// floor(x / 10): V8 strength-reduces 64-bit division by a constant (measured
// 2x faster than a multiply-high built from 32-bit halves).
@inline function div10(x: u64): u64 {
  return x / 10;
}

// Writes the `length` decimal digits of `v` ending just before `end`,
// with 32-bit divisions wherever the value allows.
function writeDigitsBackward(end: usize, v: u64, length: i32): void {
  while (v > 0xffffffff) {
    const q = v / 100000000;
    writeU32Backward(end, <u32>(v - q * 100000000), 8);
    end -= 8;
    length -= 8;
    v = q;
  }
  writeU32Backward(end, <u32>v, length);
}

// Writes a non-negative integer (or an exponent).
export function writeUint(dst: usize, v: u64): usize {
  const n = decimalLength(v);
  writeDigitsBackward(dst + n, v, n);
  return dst + n;
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

// A non-negative integer below 2^53, split with exact f64 arithmetic (wasm
// engines do not strength-reduce 64-bit division by a constant).
function writeInt53(dst: usize, a: f64): usize {
  if (a < 4294967296.0) return writeU32(dst, <u32>a);
  let hi = Math.floor(a / 100000000.0);
  let lo = a - hi * 100000000.0; // exact: hi * 1e8 has 8 trailing zero bits
  if (lo < 0) {
    hi -= 1;
    lo += 100000000.0;
  }
  dst = writeU32(dst, <u32>hi);
  writeU32Backward(dst + 8, <u32>lo, 8);
  return dst + 8;
}

/**
 * Values with at most 6 decimals and |v| in [1e-6, 1e9), not integers:
 * n = round(|v| * 10^6) is exact to within 0.5 of the 6-decimal string, and
 * n / 10^6 == |v| (a correctly rounded division) says that string reads back
 * as v. Below 1e9 an ulp is under 10^-6, so no other 6-decimal string reads
 * back as v: the shortest round-trip digits are n without its trailing zeros,
 * which is what Number::toString prints. Returns 0 when v is not such a number.
 */
@inline function writeShortDecimal(dst: usize, a: f64): usize {
  const n = Math.floor(a * 1000000.0 + 0.5);
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
 * Returns the end pointer. At most 25 bytes are written.
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
    const end = writeShortDecimal(dst, a);
    if (end != 0) return end;
  }
  d2d(bits & 0xfffffffffffff, <i32>((bits >> 52) & 0x7ff));
  const k = decimalLength(outMantissa);
  const n = outExponent + k; // position of the decimal point
  if (k <= n && n <= 21) {
    // Integer with trailing zeros: digits then n - k zeros.
    writeDigitsBackward(dst + k, outMantissa, k);
    dst += k;
    for (let i = k; i < n; i++) store<u8>(dst++, 48);
    return dst;
  }
  if (0 < n && n <= 21) {
    // Digits with a point inside.
    writeDigitsBackward(dst + k + 1, outMantissa, k);
    for (let i = 0; i < n; i++) store<u8>(dst + i, load<u8>(dst + i + 1)); // n <= 21
    store<u8>(dst + n, 46); // "."
    return dst + k + 1;
  }
  if (-6 < n && n <= 0) {
    // 0.000ddd
    store<u8>(dst, 48);
    store<u8>(dst + 1, 46);
    dst += 2;
    for (let i = n; i < 0; i++) store<u8>(dst++, 48);
    writeDigitsBackward(dst + k, outMantissa, k);
    return dst + k;
  }
  // Exponential: d[.ddd]e±x
  if (k == 1) {
    store<u8>(dst++, <u8>(48 + <u32>outMantissa));
  } else {
    writeDigitsBackward(dst + k + 1, outMantissa, k);
    store<u8>(dst, load<u8>(dst + 1));
    store<u8>(dst + 1, 46);
    dst += k + 1;
  }
  store<u8>(dst++, 101); // "e"
  let e = n - 1;
  if (e < 0) {
    store<u8>(dst++, 45);
    e = -e;
  } else {
    store<u8>(dst++, 43); // "+"
  }
  return writeUint(dst, <u64>e);
}
