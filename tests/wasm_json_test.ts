// The wasm JSON writer against JSON.stringify + UTF-8: random doubles of
// every kind, integers past 2^53, -0, exponents, every escape, non-ASCII and
// lone surrogates; NaN/±Infinity rejected like the TS engine.

import assert from "node:assert/strict";
import { tsCodec } from "../core/codec/mod.ts";
import { InvalidPayloadError } from "../core/errors.ts";
import type { Telemetry } from "../core/payload.ts";
import {
  encodeAttributesPublish,
  encodeTelemetryJson,
  encodeTelemetryPublish,
  encodeTelemetryPublishOutbound,
  type OutboundBytes,
  wasmPayloadSerializer,
} from "../core/telemetry/mod.ts";
import { Prng } from "./_gen_packets.ts";

const encoder = new TextEncoder();
const VALUES = 120_000;
const bits = new Float64Array(1);
const words = new Uint32Array(bits.buffer);

/** A random double from one of several families (all finite). */
function randomNumber(rng: Prng): number {
  switch (rng.int(0, 9)) {
    case 0: // any bit pattern (subnormals and huge exponents included)
    case 1:
      do {
        words[0] = rng.u32();
        words[1] = rng.u32();
      } while (!Number.isFinite(bits[0]!));
      return bits[0]!;
    case 2: // integers past 2^53
      return Math.round(rng.float() * 2 ** rng.int(53, 80)) * (rng.bool() ? 1 : -1);
    case 3: // safe integers
      return Math.round((rng.float() - 0.5) * 2 ** rng.int(1, 53));
    case 4: // sensor-like values with few decimals
      return Math.round((rng.float() - 0.3) * 10 ** rng.int(1, 7)) / 10 ** rng.int(0, 6);
    case 5: // around the plain/exponential switch (1e21, 1e-7)
      return (rng.float() + 0.5) * 10 ** rng.int(-9, 23);
    case 6:
      return rng.pick([0, -0, 5e-324, -5e-324, 1.7976931348623157e308, 2 ** 53, 1e21, 1e-7]);
    case 7: // full-precision doubles in a normal range
      return (rng.float() - 0.5) * 10 ** rng.int(-30, 30);
    default:
      return rng.float();
  }
}

const ALPHABET = [
  "a",
  "Z",
  "0",
  " ",
  '"',
  "\\",
  "/",
  "\b",
  "\f",
  "\n",
  "\r",
  "\t",
  "\u0000",
  "\u001f",
  "\u007f",
  "é",
  "ß",
  "€",
  "中",
  "😀",
  "\ud800",
  "\udfff",
  "\ufeff",
  "\u2028",
];

function randomString(rng: Prng): string {
  let s = "";
  for (let n = rng.int(0, 12); n > 0; n--) {
    s += rng.bool(0.3) ? String.fromCharCode(rng.int(0, 0xffff)) : rng.pick(ALPHABET);
  }
  return s;
}

function randomValue(rng: Prng): unknown {
  switch (rng.int(0, 9)) {
    case 0:
      return randomString(rng);
    case 1:
      return rng.bool();
    case 2:
      return null;
    case 3:
      return { [randomString(rng)]: randomNumber(rng), n: [randomNumber(rng), randomString(rng)] };
    default:
      return randomNumber(rng);
  }
}

function check(data: unknown, what: string): void {
  const expected = encoder.encode(JSON.stringify(data));
  const actual = encodeTelemetryJson(data as Telemetry);
  if (actual.length !== expected.length || !actual.every((b, i) => b === expected[i])) {
    assert.equal(new TextDecoder().decode(actual), JSON.stringify(data), what);
    assert.deepEqual(actual, expected, what);
  }
}

Deno.test("encodeTelemetryJson() equals JSON.stringify on 120,000 random values", () => {
  const rng = new Prng(0x15011);
  let done = 0;
  while (done < VALUES) {
    const record: Record<string, unknown> = {};
    const keys = rng.int(1, 12);
    for (let k = 0; k < keys; k++) {
      record[k % 3 === 0 ? randomString(rng) : `k${k}`] = randomValue(rng);
    }
    done += keys;
    const shape = rng.int(0, 2);
    const data = shape === 0
      ? record
      : shape === 1
      ? { ts: rng.int(0, 2 ** 31) * 1000, values: record }
      : [record, { ts: 1, values: record }];
    check(data, JSON.stringify(data));
  }
});

Deno.test("encodeTelemetryJson() formats numbers like Number#toString", () => {
  const cases = [
    0,
    -0,
    1,
    -1,
    0.1,
    0.2,
    0.30000000000000004,
    1e21,
    1e-7,
    1.5e-7,
    123e-20,
    2 ** 53 + 2,
    2 ** 64,
    -(2 ** 70),
    1e300,
    5e-324,
    1.7976931348623157e308,
    2.2250738585072014e-308,
    9007199254740993,
    100,
    1e20,
    123456789.123456789,
  ];
  for (const v of cases) check({ v }, String(v));
});

Deno.test("encodeTelemetryJson() formats the fast paths' edge values like Number#toString", () => {
  // Integers split at 2^32 and 10^8, values with up to 6 decimals near 1e-6 and
  // 1e9 (the short-decimal path's bounds), and their neighbours one ulp away.
  const base = [
    2 ** 32 - 1,
    2 ** 32,
    2 ** 32 + 1,
    1e8 - 1,
    1e8,
    1e8 + 1,
    99999999 * 1e8 + 99999999,
    2 ** 53 - 1,
    1e15 + 0.5,
    0.000001,
    0.0000015,
    0.999999,
    999999999.999999,
    999999999.99999,
    999999999.5,
    123456.000001,
    0.1 + 0.2,
    1.005,
    4.35,
    2.675,
  ];
  const values: number[] = [];
  for (const v of base) {
    for (const x of [v, -v]) values.push(x, nextUp(x), nextDown(x));
  }
  const rng = new Prng(0x5d6);
  for (let i = 0; i < 20_000; i++) {
    const digits = rng.int(1, 6);
    values.push(Math.round(rng.float() * 10 ** rng.int(digits, digits + 9)) / 10 ** digits);
  }
  for (let i = 0; i < values.length; i += 64) {
    check(Object.fromEntries(values.slice(i, i + 64).map((v, k) => [`k${k}`, v])), "edge values");
  }
});

function nextUp(x: number): number {
  bits[0] = x;
  const big = new BigInt64Array(bits.buffer);
  big[0]! += x >= 0 ? 1n : -1n;
  return Number.isFinite(bits[0]!) ? bits[0]! : x;
}

function nextDown(x: number): number {
  bits[0] = x;
  const big = new BigInt64Array(bits.buffer);
  big[0]! += x > 0 ? -1n : 1n;
  return Number.isFinite(bits[0]!) ? bits[0]! : x;
}

Deno.test("encodeTelemetryJson() escapes every control character, quote, backslash and lone surrogate", () => {
  for (let c = 0; c < 0x10000; c += c < 0x100 ? 1 : 97) {
    const s = String.fromCharCode(c);
    check({ [s]: `${s}x${s}` }, `U+${c.toString(16)}`);
  }
  check({ s: "\ud83d\ude00 \ud83d \ude00 end\ud800" }, "surrogates");
});

Deno.test("encodeTelemetryJson() rejects NaN and ±Infinity like the TS engine, naming the key", () => {
  const inputs: [unknown, string][] = [
    [{ temp: NaN }, "temp"],
    [{ a: 1, b: Infinity }, "b"],
    [{ ts: 1, values: { x: -Infinity } }, "values.x"],
    [[{ ok: 1 }, { ts: 2, values: { deep: { y: NaN } } }], "[1].values.deep.y"],
    [{ list: [1, NaN] }, "list[1]"],
  ];
  for (const [data, key] of inputs) {
    let expected: unknown;
    try {
      encodeTelemetryJson(data as Telemetry, { engine: "ts" });
    } catch (e) {
      expected = e;
    }
    assert.ok(expected instanceof InvalidPayloadError, key);
    assert.equal(expected.key, key);
    assert.throws(() => encodeTelemetryJson(data as Telemetry), expected);
    assert.throws(() => encodeTelemetryPublish("t", data as Telemetry), expected);
    assert.throws(() => encodeTelemetryPublishOutbound("t", data as Telemetry), expected);
  }
});

Deno.test("encodeTelemetryJson() falls back to JSON.stringify for toJSON, boxed and deep values", () => {
  const date = new Date(0);
  check({ when: date, boxed: new Number(1.5), s: new String("x") }, "toJSON");
  let deep: unknown = 1;
  for (let i = 0; i < 100; i++) deep = { d: deep };
  check(deep, "deep");
  assert.throws(() => encodeTelemetryJson({ u: undefined } as Telemetry), InvalidPayloadError);
  assert.throws(() => encodeTelemetryJson({ u: undefined } as Telemetry), {
    key: "u",
    message: /^Cannot send telemetry: value of "u" is undefined/,
  });
  assert.throws(() => encodeTelemetryJson({ b: 1n } as unknown as Telemetry), InvalidPayloadError);
  assert.throws(() => encodeTelemetryJson({ b: 1n } as unknown as Telemetry), {
    key: "b",
    message: /^Cannot send telemetry: value of "b" is a bigint/,
  });
});

Deno.test("encodeTelemetryJson() ignores inherited keys and handles null prototypes", () => {
  const bare = Object.assign(Object.create(null) as Record<string, unknown>, { b: 1, a: [2.5] });
  check(bare, "null prototype");
  // An enumerable Object.prototype property is not JSON: it must not appear.
  Object.defineProperty(Object.prototype, "polluted", {
    value: 1,
    enumerable: true,
    configurable: true,
    writable: true,
  });
  try {
    check({ t: 21.5, h: 40 }, "polluted prototype");
    check({ ts: 1, values: { t: 0.1 } }, "polluted prototype, entry");
  } finally {
    delete (Object.prototype as Record<string, unknown>).polluted;
  }
  check({ t: 21.5, h: 40 }, "after cleanup");
});

Deno.test("wasmPayloadSerializer() equals JSON.stringify", () => {
  const value = { method: "getTime", params: { a: [1.25, "x\n"], b: null } };
  assert.deepEqual(wasmPayloadSerializer(value), encoder.encode(JSON.stringify(value)));
});

Deno.test("encodeTelemetryPublish() equals the TS engine and the TS codec", () => {
  const data = { temperature: 21.5, humidity: 40.25, on: true, name: "käfer" };
  for (const protocolVersion of [3, 4, 5] as const) {
    for (const qos of [0, 1] as const) {
      const options = qos === 0 ? { protocolVersion } : { protocolVersion, qos, packetId: 65_535 };
      const wasm = encodeTelemetryPublish("v1/devices/me/telemetry", data, options);
      const ts = encodeTelemetryPublish("v1/devices/me/telemetry", data, {
        ...options,
        engine: "ts",
      });
      assert.deepEqual(wasm, ts);
      const [packet] = tsCodec.createDecoder({ protocolVersion }).push(wasm);
      assert.equal(packet?.type, "publish");
      const out = encodeTelemetryPublishOutbound("v1/devices/me/telemetry", data, options);
      assert.deepEqual(out.bytes, ts);
      out.release();
    }
  }
  assert.throws(() => encodeTelemetryPublish("a/#", { t: 1 }), {
    name: "TypeError",
    message: /^Cannot encode PUBLISH: topic must not contain wildcards/,
  });
  assert.throws(() => encodeTelemetryPublish("t", { t: 1 }, { qos: 1 }), {
    name: "RangeError",
    message: /^Cannot encode PUBLISH: packetId must be 1\.\.65535 for QoS 1/,
  });
});

Deno.test("encodeTelemetryPublishOutbound() keeps leased bytes intact until released", () => {
  const leases: { i: number; out: OutboundBytes }[] = [];
  for (let i = 0; i < 5000; i++) {
    leases.push({ i, out: encodeTelemetryPublishOutbound("t", { i, s: "x".repeat(i % 300) }) });
    if (leases.length > 40) {
      const { i: j, out } = leases.shift()!;
      const expected = encodeTelemetryPublish("t", { i: j, s: "x".repeat(j % 300) }, {
        engine: "ts",
      });
      assert.deepEqual(out.bytes, expected, `lease ${j}`);
      out.release();
    }
  }
  for (const { out } of leases) out.release();
});

Deno.test("encodeAttributesPublish() equals the TS engine and rejects like it", () => {
  const topic = "v1/devices/me/attributes";
  const data = { firmware: "1.2.0", ts: "not a timestamp", values: [1, 2], ratio: 0.25 };
  assert.deepEqual(
    encodeAttributesPublish(topic, data, { qos: 1, packetId: 3 }),
    encodeAttributesPublish(topic, data, { qos: 1, packetId: 3, engine: "ts" }),
  );
  for (const bad of [{ a: NaN }, [{ a: 1 }], { nested: { x: Infinity } }]) {
    let expected: unknown;
    try {
      encodeAttributesPublish(topic, bad as Record<string, unknown>, { engine: "ts" });
    } catch (e) {
      expected = e;
    }
    assert.ok(expected instanceof InvalidPayloadError);
    assert.match(expected.message, /^Cannot send attributes/);
    assert.throws(() => encodeAttributesPublish(topic, bad as Record<string, unknown>), expected);
  }
});
