import { testDecodes, testEncodeRejects, testRejects, testRoundTrips } from "./_test_vectors.ts";

const ack = { type: "connack", sessionPresent: false, reasonCode: 0 } as const;

testRoundTrips("encodeConnack() and decodeConnack() handle", [
  { name: "an accepted connection", version: 4, packet: ack, bytes: "20 02 00 00" },
  {
    name: "a present session",
    version: 4,
    packet: { ...ack, sessionPresent: true },
    bytes: "20 02 01 00",
  },
  { name: "return code 5", version: 4, packet: { ...ack, reasonCode: 5 }, bytes: "20 02 00 05" },
  { name: "return code 2", version: 3, packet: { ...ack, reasonCode: 2 }, bytes: "20 02 00 02" },
  { name: "an accepted connection", version: 5, packet: ack, bytes: "20 03 00 00 00" },
  {
    name: "a present session",
    version: 5,
    packet: { ...ack, sessionPresent: true },
    bytes: "20 03 01 00 00",
  },
  {
    name: "Not authorized (0x87)",
    version: 5,
    packet: { ...ack, reasonCode: 0x87 },
    bytes: "20 03 00 87 00",
  },
  {
    name: "every CONNACK property in id order",
    version: 5,
    packet: {
      ...ack,
      properties: {
        sessionExpiryInterval: 10,
        assignedClientIdentifier: "a",
        serverKeepAlive: 30,
        authenticationMethod: "m",
        authenticationData: new Uint8Array([1]),
        responseInformation: "r",
        serverReference: "s",
        reasonString: "o",
        receiveMaximum: 10,
        topicAliasMaximum: 0,
        maximumQoS: 0,
        retainAvailable: true,
        userProperties: [["a", "b"]],
        maximumPacketSize: 65536,
        wildcardSubscriptionAvailable: false,
        subscriptionIdentifiersAvailable: true,
        sharedSubscriptionAvailable: false,
      },
    },
    bytes:
      "20 3f 00 00 3c 11 00 00 00 0a 12 00 01 61 13 00 1e 15 00 01 6d 16 00 01 01 1a 00 01 72" +
      " 1c 00 01 73 1f 00 01 6f 21 00 0a 22 00 00 24 00 25 01 26 00 01 61 00 01 62" +
      " 27 00 01 00 00 28 00 29 01 2a 00",
  },
]);

testDecodes("decodeConnack() accepts", [
  {
    name: "a 3.1.1 refusal of a level-5 CONNECT (return code 1, no properties)",
    version: 5,
    bytes: "20 02 00 01",
    packet: { ...ack, reasonCode: 1 },
  },
]);

testRejects("decodeConnack() rejects", [
  {
    name: "a success without a property length",
    version: 5,
    bytes: "20 02 00 00",
    code: "LENGTH_MISMATCH",
  },
  {
    name: "reserved acknowledge flags [MQTT-3.2.2-1]",
    version: 4,
    bytes: "20 02 02 00",
    code: "MALFORMED_PACKET",
    offset: 2,
  },
  {
    name: "reserved acknowledge flags [MQTT-3.2.2-1]",
    version: 5,
    bytes: "20 03 80 00 00",
    code: "MALFORMED_PACKET",
    offset: 2,
  },
  {
    name: "a session on a refusal [MQTT-3.2.2-4]",
    version: 4,
    bytes: "20 02 01 05",
    code: "MALFORMED_PACKET",
    offset: 2,
  },
  {
    name: "a session on a refusal [MQTT-3.2.2-6]",
    version: 5,
    bytes: "20 03 01 87 00",
    code: "MALFORMED_PACKET",
    offset: 2,
  },
  {
    name: "return code 6 (reserved in MQTT 3.1.1 table 3.1)",
    version: 4,
    bytes: "20 02 00 06",
    code: "INVALID_REASON_CODE",
    offset: 3,
  },
  {
    name: "reason code 0x01 with properties",
    version: 5,
    bytes: "20 03 00 01 00",
    code: "INVALID_REASON_CODE",
    offset: 3,
  },
  {
    name: "reason code 0x8b",
    version: 5,
    bytes: "20 03 00 8b 00",
    code: "INVALID_REASON_CODE",
    offset: 3,
  },
  {
    name: "a Topic Alias property",
    version: 5,
    bytes: "20 06 00 00 03 23 00 01",
    code: "INVALID_PROPERTY",
    offset: 5,
  },
  {
    name: "maximum QoS 2",
    version: 5,
    bytes: "20 05 00 00 02 24 02",
    code: "INVALID_PROPERTY",
    offset: 5,
  },
  {
    name: "a duplicated Server Keep Alive",
    version: 5,
    bytes: "20 09 00 00 06 13 00 01 13 00 02",
    code: "INVALID_PROPERTY",
    offset: 8,
  },
  {
    name: "header flags 0b0001 [MQTT-2.2.2-2]",
    version: 4,
    bytes: "21 02 00 00",
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  { name: "a third byte", version: 4, bytes: "20 03 00 00 00", code: "LENGTH_MISMATCH", offset: 4 },
  { name: "a truncated body", version: 4, bytes: "20 01 00", code: "LENGTH_MISMATCH" },
]);

testEncodeRejects("encodeConnack() rejects", [
  {
    name: "return code 6",
    version: 4,
    packet: { ...ack, reasonCode: 6 },
    error: RangeError,
    message: /reasonCode 0x6 is not allowed/,
  },
  {
    name: "reason code 0x04",
    version: 5,
    packet: { ...ack, reasonCode: 4 },
    error: RangeError,
    message: /reasonCode 0x4 is not allowed/,
  },
  {
    name: "reason code 256",
    version: 5,
    packet: { ...ack, reasonCode: 256 },
    error: RangeError,
    message: /reasonCode must be 0\.\.255/,
  },
  {
    name: "a session on a refusal",
    version: 5,
    packet: { ...ack, sessionPresent: true, reasonCode: 0x87 },
    error: TypeError,
    message: /sessionPresent must be false/,
  },
  {
    name: "a non-boolean sessionPresent",
    version: 4,
    packet: { ...ack, sessionPresent: 0 },
    error: TypeError,
    message: /sessionPresent must be a boolean/,
  },
  {
    name: "a Content Type property",
    version: 5,
    packet: { ...ack, properties: { contentType: "x" } },
    error: TypeError,
    message: /property contentType is not allowed/,
  },
  {
    name: "maximum QoS 2",
    version: 5,
    packet: { ...ack, properties: { maximumQoS: 2 } },
    error: RangeError,
    message: /maximumQoS must be 0\.\.1/,
  },
]);
