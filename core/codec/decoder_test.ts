import assert from "node:assert/strict";
import { MqttDecoder } from "./decoder.ts";
import { MqttDecodeError } from "./errors.ts";
import { decodePacket } from "./decode_packet.ts";
import { encode } from "./encode.ts";
import type { Packet, PublishPacket } from "./types.ts";
import { assertDecodeError, concat, hex, utf8 } from "./_test_vectors.ts";

const stream5: Packet[] = [
  { type: "connack", sessionPresent: false, reasonCode: 0, properties: { receiveMaximum: 10 } },
  {
    type: "publish",
    topic: "a/b",
    payload: utf8("hello"),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 1,
  },
  { type: "pingresp" },
  {
    type: "publish",
    topic: "x",
    payload: new Uint8Array(300).fill(7),
    qos: 0,
    retain: true,
    dup: false,
  },
  { type: "suback", packetId: 2, reasonCodes: [0, 1], properties: { reasonString: "ok" } },
  { type: "disconnect", reasonCode: 0x8e },
];

const bytes5 = concat(stream5.map((p) => encode(p, { protocolVersion: 5 })));

Deno.test("MqttDecoder.push() decodes many packets from one chunk", () => {
  assert.deepEqual(new MqttDecoder({ protocolVersion: 5 }).push(bytes5), stream5);
});

Deno.test("MqttDecoder.push() decodes the same packets at every pair of split points", () => {
  for (let i = 0; i <= bytes5.length; i++) {
    for (let j = i; j <= bytes5.length; j += 7) {
      const decoder = new MqttDecoder({ protocolVersion: 5 });
      const out = [
        ...decoder.push(bytes5.subarray(0, i)),
        ...decoder.push(bytes5.subarray(i, j)),
        ...decoder.push(bytes5.subarray(j)),
      ];
      assert.deepEqual(out, stream5, `split at ${i}, ${j}`);
      assert.equal(decoder.bufferedBytes, 0);
    }
  }
});

Deno.test("MqttDecoder.push() decodes a stream fed one byte at a time", () => {
  const decoder = new MqttDecoder({ protocolVersion: 5 });
  const out: Packet[] = [];
  for (let i = 0; i < bytes5.length; i++) out.push(...decoder.push(bytes5.slice(i, i + 1)));
  assert.deepEqual(out, stream5);
});

Deno.test("MqttDecoder.push() reports bytes held for an incomplete packet", () => {
  const decoder = new MqttDecoder();
  assert.deepEqual(decoder.push(new Uint8Array(0)), []);
  assert.deepEqual(decoder.push(hex("30")), []);
  assert.equal(decoder.bufferedBytes, 1);
  assert.deepEqual(decoder.push(hex("05 00 01")), []);
  assert.equal(decoder.bufferedBytes, 4);
  const [p] = decoder.push(hex("61 68 69"));
  assert.deepEqual((p as PublishPacket).payload, utf8("hi"));
  assert.equal(decoder.bufferedBytes, 0);
});

Deno.test("MqttDecoder.push() keeps split payloads intact after later pushes", () => {
  const big = new Uint8Array(200_000).map((_, i) => i % 251);
  const packet: Packet = {
    type: "publish",
    topic: "t",
    payload: big,
    qos: 0,
    retain: false,
    dup: false,
  };
  const bytes = concat([encode(packet), encode(packet)]);
  const decoder = new MqttDecoder();
  const out: Packet[] = [];
  for (let i = 0; i < bytes.length; i += 999) out.push(...decoder.push(bytes.slice(i, i + 999)));
  assert.equal(out.length, 2);
  assert.deepEqual(out, [packet, packet]);
});

Deno.test("MqttDecoder.push() rejects an oversized packet from its header, before buffering", () => {
  const decoder = new MqttDecoder({ maxPacketSize: 10 });
  assert.deepEqual(decoder.push(hex("c0 00 30 08 00 01 61")), [{ type: "pingreq" }]);
  const small = new MqttDecoder({ maxPacketSize: 10 });
  assertDecodeError(
    () => small.push(hex("c0 00 30 09")),
    "PACKET_TOO_LARGE",
    2,
    /11 bytes exceeds the maximum of 10/,
  );
  const split = new MqttDecoder({ maxPacketSize: 200 });
  assert.deepEqual(split.push(hex("30 ff")), []);
  assertDecodeError(() => split.push(hex("7f")), "PACKET_TOO_LARGE", 0);
});

Deno.test("MqttDecoder.push() does not buffer a huge announced packet up front", () => {
  const decoder = new MqttDecoder();
  assert.deepEqual(decoder.push(hex("30 ff ff ff 7f 00 01 61")), []);
  assert.equal(decoder.bufferedBytes, 8);
});

Deno.test("MqttDecoder.push() rejects a 5-byte remaining length (MQTT 5 section 1.5.5)", () => {
  assertDecodeError(
    () => new MqttDecoder().push(hex("30 ff ff ff ff 01")),
    "MALFORMED_REMAINING_LENGTH",
    1,
  );
  const slow = new MqttDecoder();
  for (const b of hex("c0 00 30 80 80 80")) slow.push(new Uint8Array([b]));
  assertDecodeError(() => slow.push(hex("80")), "MALFORMED_REMAINING_LENGTH", 3);
});

Deno.test("MqttDecoder.push() rejects a non-minimal remaining length [MQTT-1.5.5-1]", () => {
  assertDecodeError(() => new MqttDecoder().push(hex("c0 80 00")), "MALFORMED_REMAINING_LENGTH", 1);
  assertDecodeError(
    () => decodePacket(hex("30 83 80 00 00 01 61")),
    "MALFORMED_REMAINING_LENGTH",
    1,
  );
});

Deno.test("MqttDecoder.push() rejects packet type 0 [MQTT-2.2.2-2]", () => {
  assertDecodeError(
    () => new MqttDecoder().push(hex("00 00")),
    "INVALID_PACKET_TYPE",
    0,
    /type 0 is reserved/,
  );
});

Deno.test("MqttDecoder.push() reports stream offsets across chunks", () => {
  const decoder = new MqttDecoder();
  assert.deepEqual(decoder.push(hex("c0 00 40")), [{ type: "pingreq" }]);
  assertDecodeError(() => decoder.push(hex("02 00 01 36 03 00 01 61")), "INVALID_QOS", 6);
});

Deno.test("MqttDecoder.push() refuses input after an error until reset()", () => {
  const decoder = new MqttDecoder();
  assertDecodeError(() => decoder.push(hex("36 00")), "INVALID_QOS", 0);
  assert.equal(decoder.failed, true);
  assertDecodeError(() => decoder.push(hex("c0 00")), "DECODER_FAILED", 2, /must be reset/);
  decoder.reset();
  assert.equal(decoder.failed, false);
  assert.equal(decoder.bufferedBytes, 0);
  assert.deepEqual(decoder.push(hex("c0 00")), [{ type: "pingreq" }]);
  assertDecodeError(() => decoder.push(hex("00")), "INVALID_PACKET_TYPE", 2);
});

Deno.test("MqttDecoder.reset() drops a partial packet", () => {
  const decoder = new MqttDecoder();
  decoder.push(hex("30 05 00"));
  decoder.reset();
  assert.equal(decoder.bufferedBytes, 0);
  assert.deepEqual(decoder.push(hex("d0 00")), [{ type: "pingresp" }]);
});

Deno.test("MqttDecoder.protocolVersion selects the packet layout", () => {
  const decoder = new MqttDecoder({ protocolVersion: 4 });
  assertDecodeError(() => decoder.push(hex("40 03 00 01 10")), "LENGTH_MISMATCH");
  const v5 = new MqttDecoder({ protocolVersion: 4 });
  v5.protocolVersion = 5;
  assert.equal(v5.protocolVersion, 5);
  assert.deepEqual(v5.push(hex("40 03 00 01 10")), [{
    type: "puback",
    packetId: 1,
    reasonCode: 0x10,
  }]);
});

Deno.test("MqttDecoder() validates its options", () => {
  assert.throws(() => new MqttDecoder({ protocolVersion: 6 as 5 }), {
    name: "RangeError",
    message: "Cannot create decoder: protocolVersion must be 3, 4 or 5",
  });
  assert.throws(() => new MqttDecoder({ maxPacketSize: 1 }), {
    name: "RangeError",
    message: "Cannot create decoder: maxPacketSize must be an integer of at least 2",
  });
  assert.throws(() => new MqttDecoder({ maxPacketSize: 1.5 }), {
    name: "RangeError",
    message: "Cannot create decoder: maxPacketSize must be an integer of at least 2",
  });
  const decoder = new MqttDecoder();
  assert.throws(() => {
    decoder.protocolVersion = 2 as 3;
  }, { name: "RangeError", message: "Cannot create decoder: protocolVersion must be 3, 4 or 5" });
  assert.throws(() => decoder.push("c000" as unknown as Uint8Array), {
    name: "TypeError",
    message: "Cannot decode packet: chunk must be a Uint8Array",
  });
});

Deno.test("decodePacket() decodes exactly one packet", () => {
  assert.deepEqual(decodePacket(hex("40 02 00 07")), { type: "puback", packetId: 7 });
  assertDecodeError(() => decodePacket(new Uint8Array(0)), "LENGTH_MISMATCH", 0);
  assertDecodeError(() => decodePacket(hex("30")), "LENGTH_MISMATCH");
  assertDecodeError(() => decodePacket(hex("30 05 00 01")), "LENGTH_MISMATCH", 4);
  assertDecodeError(
    () => decodePacket(hex("c0 00 c0 00")),
    "LENGTH_MISMATCH",
    2,
    /followed by more bytes/,
  );
  assertDecodeError(
    () => decodePacket(hex("30 03 00 01 61"), { maxPacketSize: 4 }),
    "PACKET_TOO_LARGE",
    0,
  );
});

Deno.test("MqttDecoder.push() hands packets decoded before a fault to the error", () => {
  // ThingsBoard answers a bad token on MQTT 5 with CONNACK 0x86 and then a
  // DISCONNECT 0x86, a reason code DISCONNECT may not carry [MQTT-3.14.2.1].
  const decoder = new MqttDecoder({ protocolVersion: 5 });
  const chunk = new Uint8Array([0x20, 0x03, 0x00, 0x86, 0x00, 0xe0, 0x02, 0x86, 0x00]);
  let caught: unknown;
  try {
    decoder.push(chunk);
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MqttDecodeError);
  assert.equal(caught.code, "INVALID_REASON_CODE");
  assert.deepEqual(caught.packets, [{ type: "connack", sessionPresent: false, reasonCode: 0x86 }]);
  assert.throws(() => decoder.push(new Uint8Array([0xd0, 0x00])), { code: "DECODER_FAILED" });
});
