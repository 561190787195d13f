import assert from "node:assert/strict";
import { encode } from "./encode.ts";
import {
  hex,
  testDecodes,
  testEncodeRejects,
  testRejects,
  testRoundTrips,
} from "./_test_vectors.ts";

testRoundTrips("encodeDisconnect() and decodeDisconnect() handle", [
  { name: "an empty DISCONNECT", version: 4, packet: { type: "disconnect" }, bytes: "e0 00" },
  { name: "an empty DISCONNECT", version: 3, packet: { type: "disconnect" }, bytes: "e0 00" },
  {
    name: "Normal disconnection in the 0-byte form",
    version: 5,
    packet: { type: "disconnect", reasonCode: 0 },
    bytes: "e0 00",
  },
  {
    name: "Session taken over in the 1-byte form",
    version: 5,
    packet: { type: "disconnect", reasonCode: 0x8e },
    bytes: "e0 01 8e",
  },
  {
    name: "properties",
    version: 5,
    packet: {
      type: "disconnect",
      reasonCode: 0x9c,
      properties: { sessionExpiryInterval: 0, reasonString: "r", serverReference: "s" },
    },
    bytes: "e0 0f 9c 0d 11 00 00 00 00 1c 00 01 73 1f 00 01 72",
  },
]);

testDecodes("decodeDisconnect() accepts", [
  {
    name: "a reason code with an empty property block",
    version: 5,
    bytes: "e0 02 04 00",
    packet: { type: "disconnect", reasonCode: 4 },
  },
]);

testRejects("decodeDisconnect() rejects", [
  {
    name: "a reason code before MQTT 5",
    version: 4,
    bytes: "e0 01 00",
    code: "LENGTH_MISMATCH",
    offset: 2,
  },
  {
    name: "header flags [MQTT-2.2.2-2]",
    version: 4,
    bytes: "e2 00",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "reason code 0x01",
    version: 5,
    bytes: "e0 01 01",
    code: "INVALID_REASON_CODE",
    offset: 2,
  },
  {
    name: "a Session Expiry Interval given twice",
    version: 5,
    bytes: "e0 0c 00 0a 11 00 00 00 01 11 00 00 00 02",
    code: "INVALID_PROPERTY",
    offset: 9,
  },
  {
    name: "an Authentication Method property",
    version: 5,
    bytes: "e0 06 00 04 15 00 01 6d",
    code: "INVALID_PROPERTY",
    offset: 4,
  },
]);

testEncodeRejects("encodeDisconnect() rejects", [
  {
    name: "reason code 0x01",
    version: 5,
    packet: { type: "disconnect", reasonCode: 1 },
    error: RangeError,
    message: /reasonCode 0x1 is not allowed/,
  },
  {
    name: "a Topic Alias property",
    version: 5,
    packet: { type: "disconnect", properties: { topicAlias: 1 } },
    error: TypeError,
    message: /property topicAlias is not allowed/,
  },
]);

Deno.test("encodeDisconnect() ignores reason codes before MQTT 5", () => {
  assert.deepEqual(encode({ type: "disconnect", reasonCode: 0x8e }), hex("e0 00"));
});
