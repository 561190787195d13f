import assert from "node:assert/strict";
import { encode, encodedLength, encodeInto } from "./encode.ts";
import { tsCodec } from "./ts_codec.ts";
import type { Packet } from "./types.ts";
import { hex, utf8 } from "./_test_vectors.ts";

Deno.test("encode() rejects an unknown packet type", () => {
  assert.throws(() => encode({ type: "nope" } as unknown as Packet), {
    name: "TypeError",
    message: 'Cannot encode packet: unknown type "nope"',
  });
  assert.throws(() => encode(null as unknown as Packet), {
    name: "TypeError",
    message: "Cannot encode packet: packet must be an object",
  });
});

Deno.test("encode() rejects an invalid protocolVersion option", () => {
  assert.throws(() => encode({ type: "pingreq" }, { protocolVersion: 6 as 5 }), {
    name: "RangeError",
    message: "Cannot encode packet: protocolVersion must be 3, 4 or 5",
  });
});

Deno.test("encodeInto() validates the offset", () => {
  const buf = new Uint8Array(4);
  assert.throws(() => encodeInto({ type: "pingreq" }, buf, -1), {
    name: "RangeError",
    message: "Cannot encode packet: offset must be a non-negative integer",
  });
  assert.throws(() => encodeInto({ type: "pingreq" }, buf, 0.5), {
    name: "RangeError",
    message: "Cannot encode packet: offset must be a non-negative integer",
  });
  assert.throws(() => encodeInto({ type: "pingreq" }, buf, 3), {
    name: "RangeError",
    message:
      "Cannot encode PINGREQ: needs 2 bytes, 1 available; size the buffer with encodedLength()",
  });
  assert.equal(encodeInto({ type: "pingreq" }, buf, 2), 2);
  assert.deepEqual(buf, hex("00 00 c0 00"));
});

Deno.test("encodedLength() counts 1 to 4 remaining-length bytes", () => {
  const p = (n: number): Packet => ({
    type: "publish",
    topic: "a",
    payload: new Uint8Array(n),
    qos: 0,
    retain: false,
    dup: false,
  });
  assert.equal(encodedLength(p(124)), 2 + 127);
  assert.equal(encodedLength(p(125)), 3 + 128);
  assert.equal(encodedLength(p(16_380)), 3 + 16_383);
  assert.equal(encodedLength(p(16_381)), 4 + 16_384);
  assert.equal(encodedLength(p(2_097_148)), 4 + 2_097_151);
  assert.equal(encodedLength(p(2_097_149)), 5 + 2_097_152);
});

Deno.test("encodeInto() writes consecutive packets into one buffer", () => {
  const buf = new Uint8Array(64);
  let pos = 0;
  pos += encodeInto({ type: "puback", packetId: 1 }, buf, pos);
  pos += encodeInto(
    { type: "publish", topic: "t", payload: utf8("x"), qos: 0, retain: false, dup: false },
    buf,
    pos,
  );
  assert.deepEqual(buf.subarray(0, pos), hex("40 02 00 01 30 04 00 01 74 78"));
});

Deno.test("tsCodec implements Codec with the TS functions", () => {
  assert.equal(tsCodec.name, "ts");
  const packet: Packet = {
    type: "subscribe",
    packetId: 3,
    subscriptions: [{ topicFilter: "a", qos: 1 }],
  };
  const bytes = tsCodec.encode(packet);
  assert.equal(tsCodec.encodedLength(packet), bytes.length);
  const buf = new Uint8Array(bytes.length);
  assert.equal(tsCodec.encodeInto(packet, buf, 0), bytes.length);
  assert.deepEqual(tsCodec.createDecoder().push(buf), [packet]);
  assert.equal(tsCodec.createDecoder({ protocolVersion: 5 }).protocolVersion, 5);
});
