// The wasm float formatter (wasm/assembly/dtoa.ts) against Number#toString on
// targeted vectors: every power of two and its neighbours (the asymmetric
// rounding interval below each one), subnormals, powers of ten, 2^53 ± 1, the
// extremes, values whose shortest form has 15, 16 and 17 digits, and the
// switches between plain and exponential notation at 1e21 and 1e-7. Each value
// is also written between sentinel bytes: the writer may scribble at most 7
// bytes past its end and never before its start.

import assert from "node:assert/strict";
import { createInstance } from "../wasm/_instance.ts";
import { writePow10Table } from "../wasm/_tables.ts";
import { Prng } from "./_gen_packets.ts";

const w = createInstance(true);
const decoder = new TextDecoder();
const bits = new Float64Array(1);
const big = new BigInt64Array(bits.buffer);
const AT = w.arena + 64;

/** Formats `v` in wasm; returns the text and checks the bytes around it. */
function format(v: number): string {
  w.u8.fill(0xee, AT - 8, AT + 48);
  const n = w.exports.formatNumber(AT, v);
  for (let i = AT - 8; i < AT; i++) assert.equal(w.u8[i], 0xee, `${v}: wrote before its start`);
  for (let i = AT + n + 7; i < AT + 48; i++) {
    assert.equal(w.u8[i], 0xee, `${v}: wrote more than 7 bytes past its end`);
  }
  return decoder.decode(w.u8.subarray(AT, AT + n));
}

function checkAll(values: number[], what: string): void {
  let bad = 0;
  for (const v of values) {
    if (!Number.isFinite(v)) continue;
    const got = format(v);
    if (got !== String(v)) {
      bad++;
      assert.equal(got, String(v), `${what}: ${String(v)}`);
    }
  }
  assert.equal(bad, 0);
}

/** `x` and its neighbours `d` ulps away, both signs. */
function around(x: number, d = 2): number[] {
  const out: number[] = [];
  bits[0] = Math.abs(x);
  const at = big[0]!;
  for (let i = -d; i <= d; i++) {
    big[0] = at + BigInt(i);
    if (big[0] > 0n && Number.isFinite(bits[0]!)) out.push(bits[0]!, -bits[0]!);
  }
  return out;
}

Deno.test("formatNumber() matches Number#toString at every power of two and its neighbours", () => {
  const values: number[] = [];
  for (let e = -1074; e <= 1023; e++) values.push(...around(2 ** e));
  checkAll(values, "2^e");
});

Deno.test("formatNumber() matches Number#toString on subnormals and the extremes", () => {
  const values = [
    5e-324,
    1e-323,
    1.5e-323,
    2.225073858507201e-308, // largest subnormal
    2.2250738585072014e-308, // smallest normal
    1.7976931348623157e308,
    ...around(1.7976931348623157e308, 4),
    ...around(2.2250738585072014e-308, 4),
  ];
  for (let c = 1; c <= 2000; c++) values.push(c * 5e-324);
  const rng = new Prng(0xd70a);
  for (let i = 0; i < 2000; i++) values.push(rng.int(1, 2 ** 30) * 2 ** rng.int(0, 22) * 5e-324);
  checkAll(values, "subnormal");
});

Deno.test("formatNumber() matches Number#toString at powers of ten and the notation switches", () => {
  const values: number[] = [];
  for (let e = -323; e <= 308; e++) values.push(...around(Number(`1e${e}`)));
  for (const x of [1e21, 1e-7, 1e-6, 1e20, 999999999999999900000, 1.5e21, 1.5e-7, 9.5e-7]) {
    values.push(...around(x, 8));
  }
  values.push(...around(2 ** 53, 3), 2 ** 53 - 1, 2 ** 53 + 1, 2 ** 53 + 2);
  checkAll(values, "10^e");
});

Deno.test("formatNumber() matches Number#toString on 15-, 16- and 17-digit shortest forms", () => {
  const rng = new Prng(0x1517);
  const values: number[] = [];
  const lengths = new Map<number, number>();
  for (let i = 0; i < 30_000; i++) {
    // A random 15-, 16- or 17-digit decimal at a random exponent; its double's
    // shortest form has that many digits or fewer.
    const digits = rng.int(15, 17);
    let s = String(rng.int(1, 9));
    for (let d = 1; d < digits; d++) s += String(rng.int(0, 9));
    const v = Number(`${s[0]}.${s.slice(1)}e${rng.int(-30, 30)}`);
    values.push(v);
    const length = String(v).replace(/e.*$/, "").replace(/[-.]/g, "").replace(/^0+/, "").length;
    lengths.set(length, (lengths.get(length) ?? 0) + 1);
  }
  for (const n of [15, 16, 17]) assert.ok((lengths.get(n) ?? 0) > 1000, `${n} digits covered`);
  checkAll(values, "15-17 digits");
});

Deno.test("formatNumber() matches Number#toString on random bit patterns", () => {
  const rng = new Prng(0xb175);
  const words = new Uint32Array(bits.buffer);
  const values: number[] = [];
  for (let i = 0; i < 50_000; i++) {
    words[0] = rng.u32();
    words[1] = rng.u32();
    values.push(bits[0]!);
  }
  checkAll(values, "bit pattern");
});

Deno.test("writePow10Table() writes floor(10^e * 2^(125 - floor(log2 10^e))) + 1 exactly", () => {
  const table = new ArrayBuffer(617 * 16);
  writePow10Table(table, 0);
  const view = new DataView(table);
  for (let e = -292; e <= 324; e++) {
    // The definition, computed directly (one big division per negative exponent).
    const shift = 125n - ((BigInt(e) * 913124641741n) >> 38n);
    const exact = e >= 0
      ? (shift >= 0n ? 10n ** BigInt(e) << shift : 10n ** BigInt(e) >> -shift)
      : (1n << shift) / 10n ** BigInt(-e);
    const at = (e + 292) * 16;
    const got = view.getBigUint64(at, true) | (view.getBigUint64(at + 8, true) << 64n);
    assert.equal(got, exact + 1n, `10^${e}`);
  }
});
