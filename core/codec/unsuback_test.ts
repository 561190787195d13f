import { testEncodeRejects, testRejects, testRoundTrips } from "./_test_vectors.ts";

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
