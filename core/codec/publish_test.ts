import assert from "node:assert/strict";
import { MqttDecoder } from "./decoder.ts";
import { decodePacket } from "./decode_packet.ts";
import { encode, encodeInto } from "./encode.ts";
import type { PublishPacket } from "./types.ts";
import { hex, testDecodes, testRoundTrips, utf8 } from "./_test_vectors.ts";

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

Deno.test("decodePublish() decodes repeated and same-length topics correctly", () => {
  const topics = ["a/b", "a/c", "a/b", "a/b", "é", "ab", "a/b"];
  const packets: PublishPacket[] = topics.map((topic) => ({
    ...base,
    topic,
    payload: new Uint8Array(0),
    qos: 0,
  }));
  const decoder = new MqttDecoder();
  const out = packets.flatMap((p) => decoder.push(encode(p)));
  assert.deepEqual(out.map((p) => (p as PublishPacket).topic), topics);
  assert.throws(() => decoder.push(hex("30 04 00 02 61 00")), /INVALID_UTF8|UTF-8/);
});
