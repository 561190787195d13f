import assert from "node:assert/strict";
import { encode } from "./encode.ts";
import {
  hex,
  testDecodes,
  testEncodeRejects,
  testRejects,
  testRoundTrips,
} from "./_test_vectors.ts";

const v5opts = { noLocal: false, retainAsPublished: false, retainHandling: 0 } as const;
const SHARE_G_A = "00 0a 24 73 68 61 72 65 2f 67 2f 61"; // "$share/g/a"

testRoundTrips("encodeSubscribe() and decodeSubscribe() handle", [
  {
    name: "one subscription",
    version: 4,
    packet: { type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "a/+", qos: 1 }] },
    bytes: "82 08 00 01 00 03 61 2f 2b 01",
  },
  {
    name: "two subscriptions",
    version: 4,
    packet: {
      type: "subscribe",
      packetId: 10,
      subscriptions: [{ topicFilter: "#", qos: 0 }, { topicFilter: "a/b", qos: 2 }],
    },
    bytes: "82 0c 00 0a 00 01 23 00 00 03 61 2f 62 02",
  },
  {
    name: "one subscription",
    version: 3,
    packet: { type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "a", qos: 0 }] },
    bytes: "82 06 00 01 00 01 61 00",
  },
  {
    name: "default options",
    version: 5,
    packet: {
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topicFilter: "a", qos: 1, ...v5opts }],
    },
    bytes: "82 07 00 01 00 00 01 61 01",
  },
  {
    name: "every option and the largest subscription identifier",
    version: 5,
    packet: {
      type: "subscribe",
      packetId: 1,
      properties: { subscriptionIdentifiers: [268_435_455] },
      subscriptions: [
        { topicFilter: "a", qos: 2, noLocal: true, retainAsPublished: true, retainHandling: 2 },
      ],
    },
    bytes: "82 0c 00 01 05 0b ff ff ff 7f 00 01 61 2e",
  },
  {
    name: "a shared subscription",
    version: 5,
    packet: {
      type: "subscribe",
      packetId: 1,
      subscriptions: [{ topicFilter: "$share/g/a", qos: 0, ...v5opts }],
    },
    bytes: `82 10 00 01 00 ${SHARE_G_A} 00`,
  },
]);

testDecodes("decodeSubscribe() accepts", [
  {
    name: "DUP set on an MQTT 3.1 retransmission",
    version: 3,
    bytes: "8a 06 00 01 00 01 61 01",
    packet: { type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "a", qos: 1 }] },
  },
]);

testRejects("decodeSubscribe() rejects", [
  {
    name: "header flags 0 [MQTT-3.8.1-1]",
    version: 4,
    bytes: "80 06 00 01 00 01 61 00",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "no subscriptions [MQTT-3.8.3-3]",
    version: 4,
    bytes: "82 02 00 01",
    code: "MALFORMED_PACKET",
    offset: 4,
  },
  {
    name: "no subscriptions [MQTT-3.8.3-2]",
    version: 5,
    bytes: "82 03 00 01 00",
    code: "MALFORMED_PACKET",
    offset: 5,
  },
  {
    name: "packet id 0 [MQTT-2.3.1-1]",
    version: 4,
    bytes: "82 06 00 00 00 01 61 00",
    code: "INVALID_PACKET_ID",
    offset: 2,
  },
  {
    name: "reserved option bits [MQTT-3-8.3-4]",
    version: 4,
    bytes: "82 06 00 01 00 01 61 04",
    code: "MALFORMED_PACKET",
    offset: 7,
  },
  {
    name: "QoS 3 [MQTT-3-8.3-4]",
    version: 4,
    bytes: "82 06 00 01 00 01 61 03",
    code: "INVALID_QOS",
    offset: 7,
  },
  {
    name: "QoS 3",
    version: 5,
    bytes: "82 07 00 01 00 00 01 61 03",
    code: "INVALID_QOS",
    offset: 8,
  },
  {
    name: "reserved option bits [MQTT-3.8.3-5]",
    version: 5,
    bytes: "82 07 00 01 00 00 01 61 40",
    code: "MALFORMED_PACKET",
    offset: 8,
  },
  {
    name: "retain handling 3",
    version: 5,
    bytes: "82 07 00 01 00 00 01 61 30",
    code: "MALFORMED_PACKET",
    offset: 8,
  },
  {
    name: "# not at the end [MQTT-4.7.1-2]",
    version: 4,
    bytes: "82 07 00 01 00 02 61 23 00",
    code: "INVALID_TOPIC",
    offset: 4,
  },
  {
    name: "# after a character [MQTT-4.7.1-2]",
    version: 4,
    bytes: "82 07 00 01 00 02 23 61 00",
    code: "INVALID_TOPIC",
    offset: 4,
  },
  {
    name: "+ inside a level [MQTT-4.7.1-3]",
    version: 4,
    bytes: "82 07 00 01 00 02 61 2b 00",
    code: "INVALID_TOPIC",
    offset: 4,
  },
  {
    name: "an empty filter [MQTT-4.7.3-1]",
    version: 4,
    bytes: "82 05 00 01 00 00 00",
    code: "INVALID_TOPIC",
    offset: 4,
  },
  {
    name: "a missing options byte",
    version: 4,
    bytes: "82 05 00 01 00 01 61",
    code: "LENGTH_MISMATCH",
  },
  {
    name: "No Local on a shared subscription [MQTT-3.8.3-4]",
    version: 5,
    bytes: `82 10 00 01 00 ${SHARE_G_A} 04`,
    code: "MALFORMED_PACKET",
    offset: 17,
  },
  {
    name: "a share name with a wildcard [MQTT-4.8.2-1]",
    version: 5,
    bytes: "82 10 00 01 00 00 0a 24 73 68 61 72 65 2f 2b 2f 61 00",
    code: "INVALID_TOPIC",
    offset: 5,
  },
  {
    name: "a shared subscription without a filter [MQTT-4.8.2-2]",
    version: 5,
    bytes: "82 0e 00 01 00 00 08 24 73 68 61 72 65 2f 67 00",
    code: "INVALID_TOPIC",
    offset: 5,
  },
  {
    name: "two subscription identifiers",
    version: 5,
    bytes: "82 0b 00 01 04 0b 01 0b 02 00 01 61 00",
    code: "INVALID_PROPERTY",
    offset: 7,
  },
  {
    name: "a Reason String property",
    version: 5,
    bytes: "82 0b 00 01 04 1f 00 01 78 00 01 61 00",
    code: "INVALID_PROPERTY",
    offset: 5,
  },
]);

const sub = { type: "subscribe", packetId: 1 } as const;
testEncodeRejects("encodeSubscribe() rejects", [
  {
    name: "no subscriptions [MQTT-3.8.3-3]",
    version: 4,
    packet: { ...sub, subscriptions: [] },
    error: TypeError,
    message: /subscriptions must be a non-empty array/,
  },
  {
    name: "an invalid filter",
    version: 4,
    packet: { ...sub, subscriptions: [{ topicFilter: "a#", qos: 0 }] },
    error: TypeError,
    message: /subscriptions\[0\]\.topicFilter is not a valid topic filter/,
  },
  {
    name: "an empty filter",
    version: 5,
    packet: { ...sub, subscriptions: [{ topicFilter: "", qos: 0 }] },
    error: TypeError,
    message: /topicFilter/,
  },
  {
    name: "QoS 3",
    version: 4,
    packet: { ...sub, subscriptions: [{ topicFilter: "a", qos: 3 }] },
    error: RangeError,
    message: /subscriptions\[0\]\.qos/,
  },
  {
    name: "retain handling 3",
    version: 5,
    packet: { ...sub, subscriptions: [{ topicFilter: "a", qos: 0, retainHandling: 3 }] },
    error: RangeError,
    message: /retainHandling/,
  },
  {
    name: "No Local on a shared subscription",
    version: 5,
    packet: { ...sub, subscriptions: [{ topicFilter: "$share/g/a", qos: 0, noLocal: true }] },
    error: TypeError,
    message: /noLocal must not be set/,
  },
  {
    name: "an invalid shared subscription",
    version: 5,
    packet: { ...sub, subscriptions: [{ topicFilter: "$share/g", qos: 0 }] },
    error: TypeError,
    message: /shared subscription/,
  },
  {
    name: "two subscription identifiers",
    version: 5,
    packet: {
      ...sub,
      subscriptions: [{ topicFilter: "a", qos: 0 }],
      properties: { subscriptionIdentifiers: [1, 2] },
    },
    error: RangeError,
    message: /only one/,
  },
  {
    name: "subscription identifier 0",
    version: 5,
    packet: {
      ...sub,
      subscriptions: [{ topicFilter: "a", qos: 0 }],
      properties: { subscriptionIdentifiers: [0] },
    },
    error: RangeError,
    message: /subscriptionIdentifiers must be 1\.\.268435455/,
  },
  {
    name: "packet id 0",
    version: 4,
    packet: { ...sub, packetId: 0, subscriptions: [{ topicFilter: "a", qos: 0 }] },
    error: RangeError,
    message: /packetId/,
  },
]);

Deno.test("encodeSubscribe() ignores MQTT 5 options before MQTT 5", () => {
  const bytes = encode(
    { ...sub, subscriptions: [{ topicFilter: "a", qos: 1, noLocal: true, retainHandling: 2 }] },
    { protocolVersion: 4 },
  );
  assert.deepEqual(bytes, hex("82 06 00 01 00 01 61 01"));
});
