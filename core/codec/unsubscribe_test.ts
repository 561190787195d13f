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

testRoundTrips("encodeUnsuback() and decodeUnsuback() handle", [
  {
    name: "the packet id only",
    version: 4,
    packet: { type: "unsuback", packetId: 1 },
    bytes: "b0 02 00 01",
  },
  {
    name: "the packet id only",
    version: 3,
    packet: { type: "unsuback", packetId: 9 },
    bytes: "b0 02 00 09",
  },
  {
    name: "reason codes",
    version: 5,
    packet: { type: "unsuback", packetId: 1, reasonCodes: [0, 0x11, 0x8f] },
    bytes: "b0 06 00 01 00 00 11 8f",
  },
  {
    name: "a reason string",
    version: 5,
    packet: {
      type: "unsuback",
      packetId: 1,
      reasonCodes: [0x80],
      properties: { reasonString: "no" },
    },
    bytes: "b0 09 00 01 05 1f 00 02 6e 6f 80",
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

testRejects("decodeUnsuback() rejects", [
  {
    name: "reason codes before MQTT 5",
    version: 4,
    bytes: "b0 03 00 01 00",
    code: "LENGTH_MISMATCH",
    offset: 4,
  },
  { name: "no reason codes", version: 5, bytes: "b0 03 00 01 00", code: "MALFORMED_PACKET" },
  {
    name: "reason code 0x10",
    version: 5,
    bytes: "b0 04 00 01 00 10",
    code: "INVALID_REASON_CODE",
    offset: 5,
  },
  {
    name: "packet id 0",
    version: 5,
    bytes: "b0 04 00 00 00 00",
    code: "INVALID_PACKET_ID",
    offset: 2,
  },
  {
    name: "header flags 0b0010",
    version: 4,
    bytes: "b2 02 00 01",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
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

testEncodeRejects("encodeUnsuback() rejects", [
  {
    name: "missing reason codes",
    version: 5,
    packet: { type: "unsuback", packetId: 1 },
    error: TypeError,
    message: /reasonCodes must be a non-empty array on MQTT 5/,
  },
  {
    name: "reason code 0x10",
    version: 5,
    packet: { type: "unsuback", packetId: 1, reasonCodes: [0x10] },
    error: RangeError,
    message: /reasonCodes\[0\] 0x10 is not allowed/,
  },
]);
