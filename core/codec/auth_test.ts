import { testDecodes, testEncodeRejects, testRejects, testRoundTrips } from "./_test_vectors.ts";

testRoundTrips("encodeAuth() and decodeAuth() handle", [
  {
    name: "Success in the 0-byte form",
    version: 5,
    packet: { type: "auth", reasonCode: 0 },
    bytes: "f0 00",
  },
  {
    name: "Continue authentication without properties",
    version: 5,
    packet: { type: "auth", reasonCode: 0x18 },
    bytes: "f0 02 18 00",
  },
  {
    name: "Re-authenticate with method and data",
    version: 5,
    packet: {
      type: "auth",
      reasonCode: 0x19,
      properties: {
        authenticationMethod: "m",
        authenticationData: new Uint8Array([7]),
        reasonString: "x",
      },
    },
    bytes: "f0 0e 19 0c 15 00 01 6d 16 00 01 07 1f 00 01 78",
  },
]);

testDecodes("decodeAuth() accepts", [
  {
    name: "a 1-byte reason code",
    version: 5,
    bytes: "f0 01 18",
    packet: { type: "auth", reasonCode: 0x18 },
  },
]);

testRejects("decodeAuth() rejects", [
  {
    name: "AUTH before MQTT 5",
    version: 4,
    bytes: "f0 00",
    code: "INVALID_PACKET_TYPE",
    offset: 0,
    message: /AUTH requires MQTT 5/,
  },
  {
    name: "AUTH before MQTT 5",
    version: 3,
    bytes: "f0 00",
    code: "INVALID_PACKET_TYPE",
    offset: 0,
  },
  {
    name: "header flags [MQTT-2.2.2-2]",
    version: 5,
    bytes: "f1 00",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "reason code 0x87",
    version: 5,
    bytes: "f0 02 87 00",
    code: "INVALID_REASON_CODE",
    offset: 2,
  },
  {
    name: "authentication data without a method",
    version: 5,
    bytes: "f0 06 18 04 16 00 01 01",
    code: "INVALID_PROPERTY",
  },
  {
    name: "a Session Expiry Interval property",
    version: 5,
    bytes: "f0 07 18 05 11 00 00 00 01",
    code: "INVALID_PROPERTY",
    offset: 4,
  },
]);

testEncodeRejects("encodeAuth() rejects", [
  {
    name: "AUTH before MQTT 5",
    version: 4,
    packet: { type: "auth" },
    error: TypeError,
    message: /AUTH requires protocolVersion 5/,
  },
  {
    name: "reason code 0x87",
    version: 5,
    packet: { type: "auth", reasonCode: 0x87 },
    error: RangeError,
    message: /reasonCode 0x87 is not allowed/,
  },
]);
