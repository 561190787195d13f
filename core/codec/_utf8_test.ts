import assert from "node:assert/strict";
import { LONE_SURROGATE, NULL_CHARACTER, readUtf8, utf8Length, writeUtf8 } from "./_utf8.ts";

const samples = [
  "",
  "a",
  "hello/world",
  "é",
  "€",
  "😀",
  "a😀b€é",
  "\ufeff",
  "x".repeat(100),
  "ü".repeat(70),
];

Deno.test("utf8Length() and writeUtf8() agree with TextEncoder", () => {
  for (const s of samples) {
    const expected = new TextEncoder().encode(s);
    assert.equal(utf8Length(s), expected.length, s);
    const buf = new Uint8Array(expected.length + 2);
    assert.equal(writeUtf8(buf, 1, s), expected.length + 1);
    assert.deepEqual(buf.subarray(1, 1 + expected.length), expected);
  }
});

Deno.test("utf8Length() flags U+0000 and lone surrogates [MQTT-1.5.4-1] [MQTT-1.5.4-2]", () => {
  assert.equal(utf8Length("a\0"), NULL_CHARACTER);
  assert.equal(utf8Length("\ud800"), LONE_SURROGATE);
  assert.equal(utf8Length("\udc00\ud800"), LONE_SURROGATE);
  assert.equal(utf8Length("\ud800a"), LONE_SURROGATE);
});

Deno.test("readUtf8() decodes well-formed strings and rejects the rest", () => {
  for (const s of samples) {
    const b = new TextEncoder().encode(s);
    assert.equal(readUtf8(b, 0, b.length), s);
  }
  const bad = [[0x00], [0x80], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xc3], [
    0xff,
  ]];
  for (const b of bad) assert.equal(readUtf8(new Uint8Array(b), 0, b.length), undefined, String(b));
  const long = new Uint8Array(100).fill(0x61);
  long[50] = 0;
  assert.equal(readUtf8(long, 0, 100), undefined);
});
