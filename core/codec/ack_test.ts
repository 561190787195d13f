import assert from "node:assert/strict";
import { encode } from "./encode.ts";
import {
  hex,
  testDecodes,
  testEncodeRejects,
  testRejects,
  testRoundTrips,
} from "./_test_vectors.ts";

testRoundTrips("encodeAck() and decodeAck() handle", [
  { name: "PUBACK", version: 4, packet: { type: "puback", packetId: 1 }, bytes: "40 02 00 01" },
  { name: "PUBREC", version: 4, packet: { type: "pubrec", packetId: 2 }, bytes: "50 02 00 02" },
  {
    name: "PUBREL [MQTT-3.6.1-1]",
    version: 4,
    packet: { type: "pubrel", packetId: 3 },
    bytes: "62 02 00 03",
  },
  {
    name: "PUBCOMP",
    version: 4,
    packet: { type: "pubcomp", packetId: 0x1234 },
    bytes: "70 02 12 34",
  },
  { name: "PUBREL", version: 3, packet: { type: "pubrel", packetId: 5 }, bytes: "62 02 00 05" },
  {
    name: "PUBACK Success in the 2-byte form",
    version: 5,
    packet: { type: "puback", packetId: 1, reasonCode: 0 },
    bytes: "40 02 00 01",
  },
  {
    name: "PUBREC No matching subscribers in the 3-byte form",
    version: 5,
    packet: { type: "pubrec", packetId: 1, reasonCode: 0x10 },
    bytes: "50 03 00 01 10",
  },
  {
    name: "PUBACK Payload format invalid",
    version: 5,
    packet: { type: "puback", packetId: 9, reasonCode: 0x99 },
    bytes: "40 03 00 09 99",
  },
  {
    name: "PUBREL with a reason string",
    version: 5,
    packet: { type: "pubrel", packetId: 1, reasonCode: 0x92, properties: { reasonString: "x" } },
    bytes: "62 08 00 01 92 04 1f 00 01 78",
  },
  {
    name: "PUBCOMP Success with user properties",
    version: 5,
    packet: {
      type: "pubcomp",
      packetId: 1,
      reasonCode: 0,
      properties: { userProperties: [["a", "b"]] },
    },
    bytes: "70 0b 00 01 00 07 26 00 01 61 00 01 62",
  },
]);

testDecodes("decodeAck() accepts", [
  {
    name: "a reason code with an empty property block",
    version: 5,
    bytes: "40 04 00 01 00 00",
    packet: { type: "puback", packetId: 1, reasonCode: 0 },
  },
  {
    name: "the 3-byte form with Success",
    version: 5,
    bytes: "40 03 00 01 00",
    packet: { type: "puback", packetId: 1, reasonCode: 0 },
  },
  {
    name: "PUBREL with DUP set on MQTT 3.1",
    version: 3,
    bytes: "6a 02 00 01",
    packet: { type: "pubrel", packetId: 1 },
  },
]);

testRejects("decodeAck() rejects", [
  {
    name: "packet id 0 [MQTT-2.3.1-1]",
    version: 4,
    bytes: "40 02 00 00",
    code: "INVALID_PACKET_ID",
    offset: 2,
  },
  {
    name: "packet id 0 [MQTT-2.3.1-1]",
    version: 5,
    bytes: "70 02 00 00",
    code: "INVALID_PACKET_ID",
    offset: 2,
  },
  {
    name: "PUBREL with flags 0 [MQTT-3.6.1-1]",
    version: 4,
    bytes: "60 02 00 01",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
    message: /PUBREL: header flags must be 0b0010/,
  },
  {
    name: "PUBREL with DUP set [MQTT-3.6.1-1]",
    version: 4,
    bytes: "6a 02 00 01",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "PUBACK with flags 0b0010 [MQTT-2.2.2-2]",
    version: 5,
    bytes: "42 02 00 01",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "a reason code before MQTT 5",
    version: 4,
    bytes: "40 03 00 01 00",
    code: "LENGTH_MISMATCH",
    offset: 4,
  },
  { name: "a 1-byte body", version: 4, bytes: "40 01 00", code: "LENGTH_MISMATCH" },
  {
    name: "PUBACK with reason code 0x92",
    version: 5,
    bytes: "40 03 00 01 92",
    code: "INVALID_REASON_CODE",
    offset: 4,
  },
  {
    name: "PUBREL with reason code 0x10",
    version: 5,
    bytes: "62 03 00 01 10",
    code: "INVALID_REASON_CODE",
    offset: 4,
  },
  {
    name: "PUBACK with a Content Type property",
    version: 5,
    bytes: "40 08 00 01 00 04 03 00 01 61",
    code: "INVALID_PROPERTY",
    offset: 6,
  },
  {
    name: "a property block past the end",
    version: 5,
    bytes: "40 04 00 01 00 05",
    code: "LENGTH_MISMATCH",
  },
]);

testEncodeRejects("encodeAck() rejects", [
  {
    name: "packet id 0",
    version: 4,
    packet: { type: "puback", packetId: 0 },
    error: RangeError,
    message: /^Cannot encode PUBACK: packetId must be 1\.\.65535$/,
  },
  {
    name: "a missing packet id",
    version: 5,
    packet: { type: "pubrel" },
    error: RangeError,
    message: /PUBREL: packetId/,
  },
  {
    name: "PUBACK with reason code 0x92",
    version: 5,
    packet: { type: "puback", packetId: 1, reasonCode: 0x92 },
    error: RangeError,
    message: /reasonCode 0x92 is not allowed/,
  },
  {
    name: "PUBCOMP with reason code 300",
    version: 5,
    packet: { type: "pubcomp", packetId: 1, reasonCode: 300 },
    error: RangeError,
    message: /reasonCode must be 0\.\.255/,
  },
  {
    name: "PUBREC with a Topic Alias property",
    version: 5,
    packet: { type: "pubrec", packetId: 1, properties: { topicAlias: 1 } },
    error: TypeError,
    message: /property topicAlias is not allowed/,
  },
]);

Deno.test("encodeAck() ignores reason codes and properties before MQTT 5", () => {
  const bytes = encode(
    { type: "puback", packetId: 1, reasonCode: 0x10, properties: { reasonString: "x" } },
    { protocolVersion: 4 },
  );
  assert.deepEqual(bytes, hex("40 02 00 01"));
});

Deno.test("encodeAck() treats an empty properties object as none", () => {
  const bytes = encode({ type: "puback", packetId: 1, properties: {} }, { protocolVersion: 5 });
  assert.deepEqual(bytes, hex("40 02 00 01"));
});
