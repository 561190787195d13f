import assert from "node:assert/strict";
import { MqttDecoder } from "./decoder.ts";
import { encode } from "./encode.ts";
import { hex, testEncodeRejects, testRejects, testRoundTrips, utf8 } from "./_test_vectors.ts";

const c = { type: "connect", clientId: "c", clean: true, keepalive: 60 } as const;
const MQTT4 = "00 04 4d 51 54 54 04";
const MQTT5 = "00 04 4d 51 54 54 05";
const MQISDP = "00 06 4d 51 49 73 64 70 03";

testRoundTrips("encodeConnect() and decodeConnect() handle", [
  {
    name: "a minimal CONNECT",
    version: 4,
    packet: { ...c, protocolVersion: 4 },
    bytes: `10 0d ${MQTT4} 02 00 3c 00 01 63`,
  },
  {
    name: "an empty client id [MQTT-3.1.3-6]",
    version: 4,
    packet: { ...c, protocolVersion: 4, clientId: "", keepalive: 0 },
    bytes: `10 0c ${MQTT4} 02 00 00 00 00`,
  },
  {
    name: "will, user name and password",
    version: 4,
    packet: {
      ...c,
      protocolVersion: 4,
      clean: false,
      keepalive: 10,
      will: { topic: "w", payload: utf8("x"), qos: 2, retain: true },
      username: "u",
      password: utf8("p"),
    },
    bytes: `10 19 ${MQTT4} f4 00 0a 00 01 63 00 01 77 00 01 78 00 01 75 00 01 70`,
  },
  {
    name: "protocol name MQIsdp",
    version: 3,
    packet: { ...c, protocolVersion: 3 },
    bytes: `10 0f ${MQISDP} 02 00 3c 00 01 63`,
  },
  {
    name: "a client id longer than 23 characters",
    version: 3,
    packet: { ...c, protocolVersion: 3, clientId: "x".repeat(30) },
    bytes: `10 2c ${MQISDP} 02 00 3c 00 1e` + " 78".repeat(30),
  },
  {
    name: "a user name",
    version: 3,
    packet: { ...c, protocolVersion: 3, username: "u" },
    bytes: `10 12 ${MQISDP} 82 00 3c 00 01 63 00 01 75`,
  },
  {
    name: "a minimal CONNECT",
    version: 5,
    packet: { ...c, protocolVersion: 5 },
    bytes: `10 0e ${MQTT5} 02 00 3c 00 00 01 63`,
  },
  {
    name: "a password without a user name",
    version: 5,
    packet: { ...c, protocolVersion: 5, password: utf8("p") },
    bytes: `10 11 ${MQTT5} 42 00 3c 00 00 01 63 00 01 70`,
  },
  {
    name: "every CONNECT and will property",
    version: 5,
    packet: {
      ...c,
      protocolVersion: 5,
      username: "u",
      password: utf8("p"),
      properties: {
        sessionExpiryInterval: 120,
        authenticationMethod: "m",
        authenticationData: new Uint8Array([9]),
        requestProblemInformation: false,
        requestResponseInformation: true,
        receiveMaximum: 20,
        topicAliasMaximum: 5,
        userProperties: [["a", "b"]],
        maximumPacketSize: 4096,
      },
      will: {
        topic: "w",
        payload: utf8("x"),
        qos: 1,
        retain: false,
        properties: {
          payloadFormatIndicator: true,
          messageExpiryInterval: 10,
          contentType: "t",
          responseTopic: "r",
          correlationData: new Uint8Array([1]),
          willDelayInterval: 5,
          userProperties: [["k", "v"]],
        },
      },
    },
    bytes:
      `10 5d ${MQTT5} ce 00 3c 23 11 00 00 00 78 15 00 01 6d 16 00 01 09 17 00 19 01 21 00 14` +
      " 22 00 05 26 00 01 61 00 01 62 27 00 00 10 00 00 01 63" +
      " 1f 01 01 02 00 00 00 0a 03 00 01 74 08 00 01 72 09 00 01 01 18 00 00 00 05" +
      " 26 00 01 6b 00 01 76 00 01 77 00 01 78 00 01 75 00 01 70",
  },
]);

testRejects("decodeConnect() rejects", [
  {
    name: "an unknown protocol name [MQTT-3.1.2-1]",
    version: 4,
    bytes: "10 0d 00 04 4d 51 54 58 04 02 00 3c 00 01 63",
    code: "UNSUPPORTED_PROTOCOL",
    offset: 2,
  },
  {
    name: "protocol level 6 [MQTT-3.1.2-2]",
    version: 4,
    bytes: "10 0d 00 04 4d 51 54 54 06 02 00 3c 00 01 63",
    code: "UNSUPPORTED_PROTOCOL",
    offset: 2,
  },
  {
    name: "MQIsdp with level 4 [MQTT-3.1.2-2]",
    version: 4,
    bytes: "10 0f 00 06 4d 51 49 73 64 70 04 02 00 3c 00 01 63",
    code: "UNSUPPORTED_PROTOCOL",
    offset: 2,
  },
  {
    name: "the reserved connect flag [MQTT-3.1.2-3]",
    version: 4,
    bytes: `10 0d ${MQTT4} 03 00 3c 00 01 63`,
    code: "MALFORMED_PACKET",
    offset: 9,
  },
  {
    name: "the reserved connect flag [MQTT-3.1.2-3]",
    version: 5,
    bytes: `10 0e ${MQTT5} 01 00 3c 00 00 01 63`,
    code: "MALFORMED_PACKET",
    offset: 9,
  },
  {
    name: "will QoS 3 [MQTT-3.1.2-14]",
    version: 4,
    bytes: `10 13 ${MQTT4} 1e 00 3c 00 01 63 00 01 77 00 01 78`,
    code: "INVALID_QOS",
    offset: 9,
  },
  {
    name: "will QoS without the will flag [MQTT-3.1.2-13]",
    version: 4,
    bytes: `10 0d ${MQTT4} 0a 00 3c 00 01 63`,
    code: "MALFORMED_PACKET",
    offset: 9,
  },
  {
    name: "will retain without the will flag [MQTT-3.1.2-15]",
    version: 5,
    bytes: `10 0e ${MQTT5} 22 00 3c 00 00 01 63`,
    code: "MALFORMED_PACKET",
    offset: 9,
  },
  {
    name: "a password without a user name [MQTT-3.1.2-22]",
    version: 4,
    bytes: `10 10 ${MQTT4} 42 00 3c 00 01 63 00 01 70`,
    code: "MALFORMED_PACKET",
    offset: 9,
  },
  {
    name: "a password without a user name [MQTT-3.1.2-22]",
    version: 3,
    bytes: `10 12 ${MQISDP} 42 00 3c 00 01 63 00 01 70`,
    code: "MALFORMED_PACKET",
    offset: 11,
  },
  {
    name: "a will topic with wildcards [MQTT-3.1.3-11]",
    version: 4,
    bytes: `10 13 ${MQTT4} 06 00 3c 00 01 63 00 01 23 00 01 78`,
    code: "INVALID_TOPIC",
    offset: 15,
  },
  {
    name: "a missing will payload",
    version: 4,
    bytes: `10 10 ${MQTT4} 06 00 3c 00 01 63 00 01 77`,
    code: "LENGTH_MISMATCH",
  },
  {
    name: "a truncated client id",
    version: 4,
    bytes: `10 0d ${MQTT4} 02 00 3c 00 02 63`,
    code: "LENGTH_MISMATCH",
  },
  {
    name: "trailing bytes",
    version: 4,
    bytes: `10 0e ${MQTT4} 02 00 3c 00 01 63 00`,
    code: "LENGTH_MISMATCH",
    offset: 15,
  },
  {
    name: "header flags 0b0001 [MQTT-2.2.2-2]",
    version: 4,
    bytes: `11 0d ${MQTT4} 02 00 3c 00 01 63`,
    code: "INVALID_HEADER_FLAGS",
    offset: 0,
  },
  {
    name: "a Topic Alias property",
    version: 5,
    bytes: `10 11 ${MQTT5} 02 00 3c 03 23 00 01 00 01 63`,
    code: "INVALID_PROPERTY",
    offset: 13,
  },
  {
    name: "receive maximum 0",
    version: 5,
    bytes: `10 11 ${MQTT5} 02 00 3c 03 21 00 00 00 01 63`,
    code: "INVALID_PROPERTY",
    offset: 13,
  },
  {
    name: "maximum packet size 0",
    version: 5,
    bytes: `10 13 ${MQTT5} 02 00 3c 05 27 00 00 00 00 00 01 63`,
    code: "INVALID_PROPERTY",
    offset: 13,
  },
  {
    name: "authentication data without a method",
    version: 5,
    bytes: `10 12 ${MQTT5} 02 00 3c 04 16 00 01 09 00 01 63`,
    code: "INVALID_PROPERTY",
  },
  {
    name: "a Session Expiry Interval in the will properties",
    version: 5,
    bytes: `10 1a ${MQTT5} 06 00 3c 00 00 01 63 05 11 00 00 00 01 00 01 77 00 01 78`,
    code: "INVALID_PROPERTY",
    offset: 17,
  },
]);

testEncodeRejects("encodeConnect() rejects", [
  {
    name: "protocol version 6",
    version: 4,
    packet: { ...c, protocolVersion: 6 },
    error: RangeError,
    message: /protocolVersion must be 3, 4 or 5/,
  },
  {
    name: "keepalive 65536",
    version: 4,
    packet: { ...c, protocolVersion: 4, keepalive: 65536 },
    error: RangeError,
    message: /keepalive must be 0\.\.65535/,
  },
  {
    name: "a fractional keepalive",
    version: 4,
    packet: { ...c, protocolVersion: 4, keepalive: 1.5 },
    error: TypeError,
    message: /keepalive must be an integer/,
  },
  {
    name: "a numeric client id",
    version: 4,
    packet: { ...c, protocolVersion: 4, clientId: 1 },
    error: TypeError,
    message: /clientId must be a string/,
  },
  {
    name: "an empty client id on MQTT 3.1",
    version: 3,
    packet: { ...c, protocolVersion: 3, clientId: "" },
    error: RangeError,
    message: /clientId must not be empty/,
  },
  {
    name: "a password without a user name [MQTT-3.1.2-22]",
    version: 4,
    packet: { ...c, protocolVersion: 4, password: utf8("p") },
    error: TypeError,
    message: /password requires a username/,
  },
  {
    name: "a string password",
    version: 5,
    packet: { ...c, protocolVersion: 5, username: "u", password: "p" },
    error: TypeError,
    message: /password must be a Uint8Array/,
  },
  {
    name: "a will topic with wildcards",
    version: 4,
    packet: {
      ...c,
      protocolVersion: 4,
      will: { topic: "#", payload: utf8("x"), qos: 0, retain: false },
    },
    error: TypeError,
    message: /will\.topic/,
  },
  {
    name: "will QoS 3",
    version: 4,
    packet: {
      ...c,
      protocolVersion: 4,
      will: { topic: "w", payload: utf8("x"), qos: 3, retain: false },
    },
    error: RangeError,
    message: /will\.qos/,
  },
  {
    name: "a Topic Alias property",
    version: 5,
    packet: { ...c, protocolVersion: 5, properties: { topicAlias: 1 } },
    error: TypeError,
    message: /property topicAlias is not allowed/,
  },
  {
    name: "a will Session Expiry Interval",
    version: 5,
    packet: {
      ...c,
      protocolVersion: 5,
      will: {
        topic: "w",
        payload: utf8("x"),
        qos: 0,
        retain: false,
        properties: { sessionExpiryInterval: 1 },
      },
    },
    error: TypeError,
    message: /property sessionExpiryInterval is not allowed/,
  },
  {
    name: "receive maximum 0",
    version: 5,
    packet: { ...c, protocolVersion: 5, properties: { receiveMaximum: 0 } },
    error: RangeError,
    message: /receiveMaximum/,
  },
]);

Deno.test("encodeConnect() uses the packet's own protocol level, not the options", () => {
  const bytes = encode({ ...c, protocolVersion: 5 }, { protocolVersion: 4 });
  assert.deepEqual(bytes, hex(`10 0e ${MQTT5} 02 00 3c 00 00 01 63`));
});

Deno.test("decodeConnect() switches the decoder to the CONNECT's protocol level", () => {
  const decoder = new MqttDecoder({ protocolVersion: 4 });
  const stream = hex(`10 0e ${MQTT5} 02 00 3c 00 00 01 63 e0 01 8e`);
  const packets = decoder.push(stream);
  assert.equal(decoder.protocolVersion, 5);
  assert.deepEqual(packets[1], { type: "disconnect", reasonCode: 0x8e });
});
