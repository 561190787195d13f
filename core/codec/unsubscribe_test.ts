import { testEncodeRejects, testRejects, testRoundTrips } from "./_test_vectors.ts";

testRoundTrips("encodeUnsubscribe() and decodeUnsubscribe() handle", [
  {
    name: "one filter [MQTT-3.10.1-1]",
    version: 4,
    packet: { type: "unsubscribe", packetId: 1, topicFilters: ["a/+"] },
    bytes: "a2 07 00 01 00 03 61 2f 2b",
  },
  {
    name: "two filters",
    version: 3,
    packet: { type: "unsubscribe", packetId: 2, topicFilters: ["a", "#"] },
    bytes: "a2 08 00 02 00 01 61 00 01 23",
  },
  {
    name: "one filter",
    version: 5,
    packet: { type: "unsubscribe", packetId: 1, topicFilters: ["a"] },
    bytes: "a2 06 00 01 00 00 01 61",
  },
  {
    name: "user properties",
    version: 5,
    packet: {
      type: "unsubscribe",
      packetId: 1,
      topicFilters: ["a"],
      properties: { userProperties: [["k", "v"]] },
    },
    bytes: "a2 0d 00 01 07 26 00 01 6b 00 01 76 00 01 61",
  },
]);

testRejects("decodeUnsubscribe() rejects", [
  {
    name: "header flags 0 [MQTT-3.10.1-1]",
    version: 4,
    bytes: "a0 05 00 01 00 01 61",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "no topic filters [MQTT-3.10.3-2]",
    version: 4,
    bytes: "a2 02 00 01",
    code: "MALFORMED_PACKET",
    offset: 4,
  },
  {
    name: "no topic filters [MQTT-3.10.3-2]",
    version: 5,
    bytes: "a2 03 00 01 00",
    code: "MALFORMED_PACKET",
    offset: 5,
  },
  {
    name: "packet id 0 [MQTT-2.3.1-1]",
    version: 4,
    bytes: "a2 05 00 00 00 01 61",
    code: "INVALID_PACKET_ID",
    offset: 2,
  },
  {
    name: "an invalid filter [MQTT-4.7.1-2]",
    version: 4,
    bytes: "a2 06 00 01 00 02 23 61",
    code: "INVALID_TOPIC",
    offset: 4,
  },
  {
    name: "an empty filter [MQTT-4.7.3-1]",
    version: 5,
    bytes: "a2 05 00 01 00 00 00",
    code: "INVALID_TOPIC",
    offset: 5,
  },
  {
    name: "a truncated filter",
    version: 4,
    bytes: "a2 05 00 01 00 02 61",
    code: "LENGTH_MISMATCH",
  },
  {
    name: "a Reason String property",
    version: 5,
    bytes: "a2 0a 00 01 04 1f 00 01 78 00 01 61",
    code: "INVALID_PROPERTY",
    offset: 5,
  },
]);

testEncodeRejects("encodeUnsubscribe() rejects", [
  {
    name: "no topic filters [MQTT-3.10.3-2]",
    version: 4,
    packet: { type: "unsubscribe", packetId: 1, topicFilters: [] },
    error: TypeError,
    message: /topicFilters must be a non-empty array/,
  },
  {
    name: "an invalid filter",
    version: 5,
    packet: { type: "unsubscribe", packetId: 1, topicFilters: ["a", "b+"] },
    error: TypeError,
    message: /topicFilters\[1\] is not a valid topic filter/,
  },
  {
    name: "a non-string filter",
    version: 4,
    packet: { type: "unsubscribe", packetId: 1, topicFilters: [1] },
    error: TypeError,
    message: /topicFilters\[0\] must be a string/,
  },
  {
    name: "packet id 70000",
    version: 4,
    packet: { type: "unsubscribe", packetId: 70000, topicFilters: ["a"] },
    error: RangeError,
    message: /packetId/,
  },
]);
