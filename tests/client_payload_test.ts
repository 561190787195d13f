import assert from "node:assert/strict";
import { InvalidPayloadError } from "../core/errors.ts";
import {
  encodeAttributes,
  encodeJson,
  encodeTelemetry,
  jsonSerializer,
  validateAttributes,
  validateJson,
  validateTelemetry,
} from "../core/payload.ts";

const decode = (b: Uint8Array) => new TextDecoder().decode(b);

function rejects(fn: () => unknown, key: string, message: RegExp): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof InvalidPayloadError, `expected InvalidPayloadError, got ${e}`);
    assert.ok(e instanceof TypeError);
    assert.equal(e.key, key);
    assert.match(e.message, message);
    assert.doesNotMatch(e.message, /\.$/);
    return true;
  });
}

Deno.test("encodeTelemetry() serializes every shape ThingsBoard accepts", () => {
  const cases: [unknown, string][] = [
    [{ t: 21.5, on: true, s: "x", n: null }, '{"t":21.5,"on":true,"s":"x","n":null}'],
    [{ ts: 5, values: { t: 1 } }, '{"ts":5,"values":{"t":1}}'],
    [
      [{ a: 1 }, { ts: 7, values: { b: [1, { c: 2 }] } }],
      '[{"a":1},{"ts":7,"values":{"b":[1,{"c":2}]}}]',
    ],
    [[], "[]"],
    [{ ts: 3, other: 1 }, '{"ts":3,"other":1}'],
    [{ d: new Date(0) }, '{"d":"1970-01-01T00:00:00.000Z"}'],
    [{ ünï: "cødé ✓" }, '{"ünï":"cødé ✓"}'],
  ];
  for (const [input, json] of cases) {
    assert.equal(decode(encodeTelemetry(input as never)), json);
  }
});

Deno.test("encodeTelemetry() shares a repeated (non-circular) object like JSON.stringify", () => {
  const shared = { x: 1 };
  assert.equal(decode(encodeTelemetry({ a: shared, b: shared })), '{"a":{"x":1},"b":{"x":1}}');
});

Deno.test("validateTelemetry() names the key path of the first bad value", () => {
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  const cases: [unknown, string, RegExp][] = [
    [{ t: NaN }, "t", /^Cannot send telemetry: value of "t" is NaN$/],
    [{ t: Infinity }, "t", /is Infinity$/],
    [{ t: -Infinity }, "t", /is -Infinity$/],
    [{ t: undefined }, "t", /is undefined$/],
    [{ t: () => 1 }, "t", /is a function$/],
    [{ t: Symbol("s") }, "t", /is a symbol$/],
    [{ t: 1n }, "t", /is a bigint, convert it/],
    [{ deep: { arr: [1, { x: NaN }] } }, "deep.arr[1].x", /"deep\.arr\[1\]\.x" is NaN/],
    [[{ a: 1 }, { ts: 1, values: { t: NaN } }], "[1].values.t", /"\[1\]\.values\.t" is NaN/],
    [cyclic, "self", /"self" is a circular reference/],
    [{ m: new Map() }, "m", /is a Map, which JSON cannot represent/],
    [{ s: new Set([1]) }, "s", /is a Set/],
    [{ b: new Uint8Array(2) }, "b", /is a Uint8Array/],
    [{ arr: [1, undefined] }, "arr[1]", /"arr\[1\]" is undefined/],
    [{ n: new Number(NaN) }, "n", /is NaN/],
  ];
  for (const [input, key, message] of cases) {
    rejects(() => validateTelemetry(input), key, message);
  }
});

Deno.test("validateTelemetry() checks the shape of the payload and of ts entries", () => {
  const cases: [unknown, string, RegExp][] = [
    ["text", "", /expected an object or an array of objects, got a string/],
    [null, "", /got null/],
    [NaN, "", /got a number/],
    [[1], "[0]", /"\[0\]" must be an object, got a number/],
    [[[{ a: 1 }]], "[0]", /"\[0\]" must be an object, got an array/],
    [{ ts: "now", values: {} }, "ts", /"ts" must be a timestamp in milliseconds.*got a string/],
    [{ ts: 1.5, values: {} }, "ts", /got 1\.5/],
    [{ ts: -1, values: {} }, "ts", /got -1/],
    [{ ts: new Date(), values: {} }, "ts", /got an object/],
    [{ ts: 1, values: [1] }, "values", /"values" must be an object, got an array/],
    [{ ts: 1, values: {}, extra: 2 }, "extra", /"extra" is next to "ts" and "values"/],
    [[{ ts: 1, values: null }], "[0].values", /"\[0\]\.values" must be an object, got null/],
  ];
  for (const [input, key, message] of cases) {
    rejects(() => validateTelemetry(input), key, message);
  }
});

Deno.test("validateTelemetry() refuses values nested absurdly deep", () => {
  let v: unknown = 1;
  for (let i = 0; i < 300; i++) v = { v };
  assert.throws(() => validateTelemetry(v), /nested deeper than 256 levels/);
});

Deno.test("validateAttributes() accepts one object and refuses arrays", () => {
  validateAttributes({ a: 1, b: { c: [true] } });
  rejects(
    () => validateAttributes([{ a: 1 }]),
    "",
    /^Cannot send attributes: expected an object, got an array$/,
  );
  rejects(
    () => validateAttributes({ a: NaN }),
    "a",
    /^Cannot send attributes: value of "a" is NaN$/,
  );
  assert.equal(decode(encodeAttributes({ fw: "1.0" })), '{"fw":"1.0"}');
});

Deno.test("validateJson() accepts any JSON value and names the root", () => {
  for (const v of [null, 1, "s", true, [1, "a"], { a: { b: null } }]) validateJson(v, "RPC reply");
  rejects(() => validateJson(NaN, "RPC reply"), "", /^Cannot send RPC reply: the payload is NaN$/);
  rejects(
    () => validateJson(undefined, "RPC params"),
    "",
    /^Cannot send RPC params: the payload is undefined$/,
  );
});

Deno.test("encodeJson() uses the serializer it is given, after validation", () => {
  const seen: unknown[] = [];
  const serializer = (v: unknown) => {
    seen.push(v);
    return jsonSerializer(v);
  };
  assert.equal(decode(encodeJson({ a: 1 }, "value", serializer)), '{"a":1}');
  assert.throws(() => encodeJson({ a: NaN }, "value", serializer), InvalidPayloadError);
  assert.throws(() => encodeTelemetry({ a: NaN }, serializer), InvalidPayloadError);
  assert.throws(() => encodeAttributes({ a: NaN }, serializer), InvalidPayloadError);
  assert.deepEqual(seen, [{ a: 1 }]);
});
