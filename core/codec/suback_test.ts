import { testEncodeRejects, testRejects, testRoundTrips } from "./_test_vectors.ts";

testRoundTrips("encodeSuback() and decodeSuback() handle", [
  {
    name: "one granted QoS",
    version: 4,
    packet: { type: "suback", packetId: 1, reasonCodes: [1] },
    bytes: "90 03 00 01 01",
  },
  {
    name: "a failure code [MQTT-3.9.3-2]",
    version: 4,
    packet: { type: "suback", packetId: 1, reasonCodes: [0, 2, 0x80] },
    bytes: "90 05 00 01 00 02 80",
  },
  {
    name: "granted QoS 0",
    version: 3,
    packet: { type: "suback", packetId: 7, reasonCodes: [0] },
    bytes: "90 03 00 07 00",
  },
  {
    name: "granted QoS 0",
    version: 5,
    packet: { type: "suback", packetId: 1, reasonCodes: [0] },
    bytes: "90 04 00 01 00 00",
  },
  {
    name: "a reason string and several codes",
    version: 5,
    packet: {
      type: "suback",
      packetId: 1,
      reasonCodes: [1, 0x87, 0xa2],
      properties: { reasonString: "x" },
    },
    bytes: "90 0a 00 01 04 1f 00 01 78 01 87 a2",
  },
]);

testRejects("decodeSuback() rejects", [
  { name: "no reason codes", version: 4, bytes: "90 02 00 01", code: "MALFORMED_PACKET" },
  { name: "no reason codes", version: 5, bytes: "90 03 00 01 00", code: "MALFORMED_PACKET" },
  {
    name: "return code 0x87 [MQTT-3.9.3-2]",
    version: 4,
    bytes: "90 03 00 01 87",
    code: "INVALID_REASON_CODE",
    offset: 4,
  },
  {
    name: "return code 3 [MQTT-3.9.3-2]",
    version: 3,
    bytes: "90 03 00 01 03",
    code: "INVALID_REASON_CODE",
    offset: 4,
  },
  {
    name: "reason code 0x10",
    version: 5,
    bytes: "90 04 00 01 00 10",
    code: "INVALID_REASON_CODE",
    offset: 5,
  },
  {
    name: "header flags 0b0010 [MQTT-2.2.2-2]",
    version: 4,
    bytes: "92 03 00 01 00",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "packet id 0",
    version: 4,
    bytes: "90 03 00 00 00",
    code: "INVALID_PACKET_ID",
    offset: 2,
  },
]);

testEncodeRejects("encodeSuback() rejects", [
  {
    name: "no reason codes",
    version: 4,
    packet: { type: "suback", packetId: 1, reasonCodes: [] },
    error: TypeError,
    message: /reasonCodes must be a non-empty array/,
  },
  {
    name: "return code 0x87",
    version: 4,
    packet: { type: "suback", packetId: 1, reasonCodes: [0x87] },
    error: RangeError,
    message: /reasonCodes\[0\] 0x87 is not allowed/,
  },
  {
    name: "reason code 0x10",
    version: 5,
    packet: { type: "suback", packetId: 1, reasonCodes: [0, 0x10] },
    error: RangeError,
    message: /reasonCodes\[1\]/,
  },
]);
