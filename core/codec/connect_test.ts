import assert from "node:assert/strict";
import { MqttDecoder } from "./decoder.ts";
import { encode } from "./encode.ts";
import { hex, testRoundTrips, utf8 } from "./_test_vectors.ts";

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
