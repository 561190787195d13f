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

// (m * mul) >> j for a 128-bit multiplier at mulPtr (low word first), with
// 64 < j < 128, using 64x64 -> 128 products built from 32-bit halves.
function mulShift64(m: u64, mulPtr: usize, j: i32): u64 {
  const mLo = m & 0xffffffff;
  const mHi = m >> 32;
  // m * mul[1] (high word of the multiplier), full 128 bits.
  const b = load<u64>(mulPtr, 8);
  let bLo = b & 0xffffffff;
  let bHi = b >> 32;
  let p00 = mLo * bLo;
  let p01 = mLo * bHi;
  let p10 = mHi * bLo;
  let p11 = mHi * bHi;
  let mid = p10 + (p00 >> 32);
  let mid2 = p01 + (mid & 0xffffffff);
  const low1 = (mid2 << 32) | (p00 & 0xffffffff);
  let high1 = p11 + (mid >> 32) + (mid2 >> 32);
  // m * mul[0] (low word), high 64 bits only.
  const a = load<u64>(mulPtr);
  bLo = a & 0xffffffff;
  bHi = a >> 32;
  p00 = mLo * bLo;
  p01 = mLo * bHi;
  p10 = mHi * bLo;
  p11 = mHi * bHi;
  mid = p10 + (p00 >> 32);
  mid2 = p01 + (mid & 0xffffffff);
  const high0 = p11 + (mid >> 32) + (mid2 >> 32);
  const sum = high0 + low1;
  if (sum < high0) high1++;
  const s = <u64>(j - 64);
  return (high1 << (64 - s)) | (sum >> s);
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
    vr = mulShift64(mv, mul, i);
    vp = mulShift64(mv + 2, mul, i);
    vm = mulShift64(mv - 1 - mmShift, mul, i);
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
    vr = mulShift64(mv, mul, j);
    vp = mulShift64(mv + 2, mul, j);
    vm = mulShift64(mv - 1 - mmShift, mul, j);
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
    const vpDiv100 = div10(div10(vp));
    const vmDiv100 = div10(div10(vm));
    if (vpDiv100 > vmDiv100) {
      const vrDiv100 = div10(div10(vr));
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

function decimalLength(v: u64): i32 {
  if (v <= 0xffffffff) return decimalLength32(<u32>v);
  // 10^10 <= v < 2^64 here, Ryu's outputs stay below 10^17.
  if (v < 10000000000000) {
    return v < 100000000000 ? (v < 10000000000 ? 10 : 11) : v < 1000000000000 ? 12 : 13;
  }
  if (v < 10000000000000000) {
    return v < 100000000000000 ? 14 : v < 1000000000000000 ? 15 : 16;
  }
  return v < 100000000000000000 ? 17 : v < 1000000000000000000 ? 18 : 19;
}

// floor(x / 10) for any u64, as a multiply-high by ceil(2^67 / 10): wasm
// engines do not strength-reduce 64-bit division by a constant.
@inline function div10(x: u64): u64 {
  const m: u64 = 0xcccccccccccccccd;
  const xLo = x & 0xffffffff;
  const xHi = x >> 32;
  const mLo = m & 0xffffffff;
  const mHi = m >> 32;
  const lo = xLo * mLo;
  const mid1 = xHi * mLo + (lo >> 32);
  const mid2 = xLo * mHi + (mid1 & 0xffffffff);
  return (xHi * mHi + (mid1 >> 32) + (mid2 >> 32)) >> 3;
}

// Writes the `length` decimal digits of `v` ending just before `end`,
// with 32-bit divisions wherever the value allows.
function writeDigitsBackward(end: usize, v: u64, length: i32): void {
  while (v > 0xffffffff) {
    const q = v / 100000000;
    let r = <u32>(v - q * 100000000);
    for (let i = 0; i < 8; i++) {
      const d = r / 10;
      store<u8>(--end, <u8>(48 + r - d * 10));
      r = d;
    }
    length -= 8;
    v = q;
  }
  let r = <u32>v;
  for (let i = 0; i < length; i++) {
    const d = r / 10;
    store<u8>(--end, <u8>(48 + r - d * 10));
    r = d;
  }
}

// Writes a non-negative integer (or an exponent).
export function writeUint(dst: usize, v: u64): usize {
  const n = decimalLength(v);
  writeDigitsBackward(dst + n, v, n);
  return dst + n;
}

// Powers of ten 10^0..10^6, as f64 (exact) for the short-decimal path.
const POW10 = memory.data<f64>([1.0, 10.0, 100.0, 1000.0, 10000.0, 100000.0, 1000000.0]);

/**
 * Values with at most 6 decimals and |v| in [1e-6, 1e9): finds the smallest
 * d with round(|v| * 10^d) / 10^d == |v| (the division is correctly rounded,
 * so this is exactly "the d-decimal string reads back as v"). As
 * |v| * 10^d < 2^52, at most one d-decimal string reads back as v, so it is
 * the shortest and the one Number::toString prints. Returns 0 when the value
 * is not such a number.
 */
function writeShortDecimal(dst: usize, a: f64): usize {
  for (let d = 1; d <= 6; d++) {
    const scale = load<f64>(POW10 + (<usize>d << 3));
    const n = Math.floor(a * scale + 0.5);
    if (n / scale != a) continue;
    const unit = <u32>load<f64>(POW10 + (<usize>d << 3));
    const whole = <u64>n;
    const ip = <u32>(whole / unit);
    const fp = <u32>(whole - <u64>ip * unit);
    dst = writeUint(dst, ip);
    store<u8>(dst++, 46); // "."
    writeDigitsBackward(dst + d, fp, d);
    return dst + d;
  }
  return 0;
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
    return writeUint(dst, <u64>value); // -0 prints "0"
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
    memory.copy(dst, dst + 1, n);
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
