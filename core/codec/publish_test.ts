import assert from "node:assert/strict";
import { decodePacket, MqttDecoder } from "./decoder.ts";
import { encode, encodeInto } from "./encode.ts";
import type { PublishPacket } from "./types.ts";
import {
  hex,
  testDecodes,
  testEncodeRejects,
  testRejects,
  testRoundTrips,
  utf8,
} from "./_test_vectors.ts";

const base = { type: "publish", retain: false, dup: false } as const;

testRoundTrips("encodePublish() and decodePublish() handle", [
  {
    name: "QoS 0",
    version: 4,
    packet: { ...base, topic: "a/b", payload: utf8("hi"), qos: 0 },
    bytes: "30 07 00 03 61 2f 62 68 69",
  },
  {
    name: "QoS 0",
    version: 3,
    packet: { ...base, topic: "a", payload: utf8("z"), qos: 0 },
    bytes: "30 04 00 01 61 7a",
  },
  {
    name: "QoS 1 with retain and an empty payload",
    version: 4,
    packet: { ...base, topic: "a", payload: new Uint8Array(0), qos: 1, retain: true, packetId: 10 },
    bytes: "33 05 00 01 61 00 0a",
  },
  {
    name: "QoS 2 with DUP and packet id 65535",
    version: 4,
    packet: { ...base, topic: "a", payload: utf8("xy"), qos: 2, dup: true, packetId: 65535 },
    bytes: "3c 07 00 01 61 ff ff 78 79",
  },
  {
    name: "a multi-byte UTF-8 topic",
    version: 4,
    packet: { ...base, topic: "é😀", payload: utf8("!"), qos: 0 },
    bytes: "30 09 00 06 c3 a9 f0 9f 98 80 21",
  },
  {
    name: "a U+FEFF topic kept as is [MQTT-1.5.4-3]",
    version: 4,
    packet: { ...base, topic: "\ufeffa", payload: new Uint8Array(0), qos: 0 },
    bytes: "30 06 00 04 ef bb bf 61",
  },
  {
    name: "a 2-byte remaining length",
    version: 4,
    packet: { ...base, topic: "a", payload: new Uint8Array(200), qos: 0 },
    bytes: "30 cb 01 00 01 61" + " 00".repeat(200),
  },
  {
    name: "an empty property block",
    version: 5,
    packet: { ...base, topic: "a", payload: utf8("z"), qos: 0 },
    bytes: "30 05 00 01 61 00 7a",
  },
  {
    name: "every PUBLISH property in id order",
    version: 5,
    packet: {
      ...base,
      topic: "t",
      payload: utf8("{}"),
      qos: 1,
      packetId: 1,
      properties: {
        payloadFormatIndicator: true,
        messageExpiryInterval: 60,
        contentType: "j",
        responseTopic: "r",
        correlationData: new Uint8Array([1, 2]),
        subscriptionIdentifiers: [1, 128],
        topicAlias: 3,
        userProperties: [["k", "v"]],
      },
    },
    bytes: "32 2b 00 01 74 00 01 23 01 01 02 00 00 00 3c 03 00 01 6a 08 00 01 72 09 00 02 01 02" +
      " 0b 01 0b 80 01 23 00 03 26 00 01 6b 00 01 76 7b 7d",
  },
  {
    name: "an empty topic with a topic alias",
    version: 5,
    packet: { ...base, topic: "", payload: utf8("x"), qos: 0, properties: { topicAlias: 5 } },
    bytes: "30 07 00 00 03 23 00 05 78",
  },
  {
    name: "duplicate user properties in order [MQTT-3.3.2-18]",
    version: 5,
    packet: {
      ...base,
      topic: "a",
      payload: new Uint8Array(0),
      qos: 0,
      properties: { userProperties: [["a", "2"], ["a", "1"], ["a", "2"]] },
    },
    bytes: "30 19 00 01 61 15 26 00 01 61 00 01 32 26 00 01 61 00 01 31 26 00 01 61 00 01 32",
  },
]);

testDecodes("decodePublish() accepts", [
  {
    name: "properties in any order",
    version: 5,
    bytes: "30 0a 00 01 61 06 03 00 01 6a 01 00",
    packet: {
      ...base,
      topic: "a",
      payload: new Uint8Array(0),
      qos: 0,
      properties: { contentType: "j", payloadFormatIndicator: false },
    },
  },
]);

testRejects("decodePublish() rejects", [
  {
    name: "QoS 3 [MQTT-3.3.1-4]",
    version: 4,
    bytes: "36 03 00 01 61",
    code: "INVALID_QOS",
    offset: 0,
  },
  {
    name: "QoS 3 [MQTT-3.3.1-4]",
    version: 5,
    bytes: "36 03 00 01 61",
    code: "INVALID_QOS",
    offset: 0,
    message: /QoS 3 is not allowed/,
  },
  {
    name: "DUP on QoS 0 [MQTT-3.3.1-2]",
    version: 4,
    bytes: "38 03 00 01 61",
    code: "MALFORMED_PACKET",
    offset: 0,
  },
  {
    name: "a + wildcard in the topic [MQTT-3.3.2-2]",
    version: 4,
    bytes: "30 05 00 03 61 2f 2b",
    code: "INVALID_TOPIC",
    offset: 2,
  },
  {
    name: "a # wildcard in the topic [MQTT-3.3.2-2]",
    version: 5,
    bytes: "30 04 00 01 23 00",
    code: "INVALID_TOPIC",
    offset: 2,
  },
  {
    name: "an empty topic [MQTT-4.7.3-1]",
    version: 4,
    bytes: "30 02 00 00",
    code: "INVALID_TOPIC",
    offset: 2,
  },
  {
    name: "an empty topic without a topic alias",
    version: 5,
    bytes: "30 03 00 00 00",
    code: "INVALID_TOPIC",
    offset: 2,
  },
  {
    name: "packet id 0 on QoS 1 [MQTT-2.3.1-1]",
    version: 4,
    bytes: "32 05 00 01 61 00 00",
    code: "INVALID_PACKET_ID",
    offset: 5,
  },
  {
    name: "packet id 0 on QoS 2 [MQTT-2.3.1-1]",
    version: 5,
    bytes: "34 06 00 01 61 00 00 00",
    code: "INVALID_PACKET_ID",
    offset: 5,
  },
  {
    name: "U+0000 in the topic [MQTT-1.5.4-2]",
    version: 4,
    bytes: "30 04 00 02 61 00",
    code: "INVALID_UTF8",
    offset: 4,
  },
  {
    name: "a lone continuation byte [MQTT-1.5.4-1]",
    version: 4,
    bytes: "30 04 00 02 61 80",
    code: "INVALID_UTF8",
    offset: 4,
  },
  {
    name: "an encoded surrogate [MQTT-1.5.4-1]",
    version: 4,
    bytes: "30 05 00 03 ed a0 80",
    code: "INVALID_UTF8",
    offset: 4,
  },
  {
    name: "an overlong encoding [MQTT-1.5.4-1]",
    version: 4,
    bytes: "30 04 00 02 c0 af",
    code: "INVALID_UTF8",
    offset: 4,
  },
  {
    name: "a truncated multi-byte character [MQTT-1.5.4-1]",
    version: 4,
    bytes: "30 03 00 01 c3",
    code: "INVALID_UTF8",
    offset: 4,
  },
  {
    name: "a topic longer than the packet",
    version: 4,
    bytes: "30 03 00 05 61",
    code: "LENGTH_MISMATCH",
  },
  { name: "a missing packet id", version: 4, bytes: "32 04 00 01 61 00", code: "LENGTH_MISMATCH" },
  {
    name: "a property not allowed on PUBLISH",
    version: 5,
    bytes: "30 09 00 01 61 05 11 00 00 00 01",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "a duplicated property",
    version: 5,
    bytes: "30 0c 00 01 61 08 03 00 01 6a 03 00 01 6a",
    code: "INVALID_PROPERTY",
    offset: 10,
  },
  {
    name: "topic alias 0 [MQTT-3.3.2-8]",
    version: 5,
    bytes: "30 07 00 01 61 03 23 00 00",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "an unknown property",
    version: 5,
    bytes: "30 06 00 01 61 02 05 00",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "a property block longer than the packet",
    version: 5,
    bytes: "30 05 00 01 61 09 01",
    code: "LENGTH_MISMATCH",
  },
  {
    name: "payload format indicator 2",
    version: 5,
    bytes: "30 06 00 01 61 02 01 02",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "subscription identifier 0",
    version: 5,
    bytes: "30 06 00 01 61 02 0b 00",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "a non-minimal subscription identifier [MQTT-1.5.5-1]",
    version: 5,
    bytes: "30 07 00 01 61 03 0b 81 00",
    code: "MALFORMED_PACKET",
    offset: 7,
  },
  {
    name: "a response topic with wildcards [MQTT-3.3.2-14]",
    version: 5,
    bytes: "30 08 00 01 61 04 08 00 01 23",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "a property value past the block end",
    version: 5,
    bytes: "30 08 00 01 61 02 02 00 00 00",
    code: "LENGTH_MISMATCH",
  },
]);

const enc = { ...base, topic: "a", payload: new Uint8Array(0), qos: 0 };
testEncodeRejects("encodePublish() rejects", [
  {
    name: "QoS 3",
    version: 4,
    packet: { ...enc, qos: 3 },
    error: RangeError,
    message: /qos must be 0, 1 or 2/,
  },
  {
    name: "a missing packet id on QoS 1",
    version: 4,
    packet: { ...enc, qos: 1 },
    error: RangeError,
    message: /^Cannot encode PUBLISH: packetId must be 1\.\.65535 for QoS 1$/,
  },
  {
    name: "packet id 0 on QoS 2",
    version: 5,
    packet: { ...enc, qos: 2, packetId: 0 },
    error: RangeError,
    message: /packetId must be 1\.\.65535 for QoS 2/,
  },
  {
    name: "packet id 65536",
    version: 4,
    packet: { ...enc, qos: 1, packetId: 65536 },
    error: RangeError,
    message: /packetId/,
  },
  {
    name: "a non-numeric packet id",
    version: 4,
    packet: { ...enc, qos: 1, packetId: "1" },
    error: TypeError,
    message: /packetId/,
  },
  {
    name: "a wildcard topic [MQTT-3.3.2-2]",
    version: 4,
    packet: { ...enc, topic: "a/+" },
    error: TypeError,
    message: /topic must not contain wildcards/,
  },
  {
    name: "an empty topic [MQTT-4.7.3-1]",
    version: 4,
    packet: { ...enc, topic: "" },
    error: RangeError,
    message: /topic must not be empty/,
  },
  {
    name: "an empty topic without an alias",
    version: 5,
    packet: { ...enc, topic: "" },
    error: RangeError,
    message: /topic must not be empty/,
  },
  {
    name: "U+0000 in the topic [MQTT-4.7.3-2]",
    version: 4,
    packet: { ...enc, topic: "a\0" },
    error: TypeError,
    message: /topic/,
  },
  {
    name: "a lone surrogate in the topic [MQTT-1.5.4-1]",
    version: 4,
    packet: { ...enc, topic: "a\ud800" },
    error: TypeError,
    message: /topic/,
  },
  {
    name: "a topic over 65535 bytes",
    version: 4,
    packet: { ...enc, topic: "é".repeat(32768) },
    error: RangeError,
    message: /topic must be at most 65535/,
  },
  {
    name: "a string payload",
    version: 4,
    packet: { ...enc, payload: "x" },
    error: TypeError,
    message: /payload must be a Uint8Array/,
  },
  {
    name: "DUP on QoS 0 [MQTT-3.3.1-2]",
    version: 4,
    packet: { ...enc, dup: true },
    error: RangeError,
    message: /dup must be false for QoS 0/,
  },
  {
    name: "a non-boolean retain",
    version: 4,
    packet: { ...enc, retain: 1 },
    error: TypeError,
    message: /retain must be a boolean/,
  },
  {
    name: "a property not allowed on PUBLISH",
    version: 5,
    packet: { ...enc, properties: { sessionExpiryInterval: 1 } },
    error: TypeError,
    message: /property sessionExpiryInterval is not allowed/,
  },
  {
    name: "topic alias 0 [MQTT-3.3.2-8]",
    version: 5,
    packet: { ...enc, properties: { topicAlias: 0 } },
    error: RangeError,
    message: /property topicAlias must be 1\.\.65535/,
  },
  {
    name: "a wildcard response topic [MQTT-3.3.2-14]",
    version: 5,
    packet: { ...enc, properties: { responseTopic: "a/#" } },
    error: TypeError,
    message: /property responseTopic/,
  },
  {
    name: "a negative message expiry interval",
    version: 5,
    packet: { ...enc, properties: { messageExpiryInterval: -1 } },
    error: RangeError,
    message: /messageExpiryInterval/,
  },
  {
    name: "a malformed user property",
    version: 5,
    packet: { ...enc, properties: { userProperties: [["a"]] } },
    error: TypeError,
    message: /userProperties/,
  },
]);

Deno.test("decodePublish() returns the payload as a view of the chunk", () => {
  const chunk = hex("30 07 00 03 61 2f 62 68 69 c0 00");
  const packets = new MqttDecoder().push(chunk);
  assert.equal(packets.length, 2);
  const p = packets[0] as PublishPacket;
  assert.equal(p.payload.buffer, chunk.buffer);
  assert.equal(p.payload.byteOffset, 7);
  assert.deepEqual(p.payload, utf8("hi"));
});

Deno.test("encodeInto() refuses a PUBLISH that does not fit and writes nothing", () => {
  const packet: PublishPacket = { ...base, topic: "a/b", payload: utf8("hi"), qos: 0 };
  const buf = new Uint8Array(9);
  assert.throws(
    () => encodeInto(packet, buf, 1),
    /Cannot encode PUBLISH: needs 9 bytes, 8 available/,
  );
  assert.ok(buf.every((b) => b === 0));
  assert.equal(encodeInto(packet, buf, 0), 9);
});

Deno.test("encodePublish() ignores properties on levels 3 and 4", () => {
  const packet: PublishPacket = {
    ...base,
    topic: "a",
    payload: new Uint8Array(0),
    qos: 0,
    properties: { contentType: "x" },
  };
  assert.deepEqual(encode(packet, { protocolVersion: 4 }), hex("30 03 00 01 61"));
  assert.deepEqual(decodePacket(hex("30 03 00 01 61")), {
    ...base,
    topic: "a",
    payload: new Uint8Array(0),
    qos: 0,
  });
});
