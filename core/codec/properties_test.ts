import assert from "node:assert/strict";
import { PacketType } from "./constants.ts";
import { isPropertyAllowed, PROPERTIES, WILL_PROPERTIES } from "./properties.ts";
import { encode } from "./encode.ts";
import { testEncodeRejects } from "./_test_vectors.ts";

const T = PacketType;
const W = WILL_PROPERTIES;
const R = [
  T.Connack,
  T.Puback,
  T.Pubrec,
  T.Pubrel,
  T.Pubcomp,
  T.Suback,
  T.Unsuback,
  T.Disconnect,
  T.Auth,
];

/** MQTT 5 table 2-4 "Properties", written out independently of properties.ts. */
const SPEC: [number, string, number[]][] = [
  [0x01, "payloadFormatIndicator", [T.Publish, W]],
  [0x02, "messageExpiryInterval", [T.Publish, W]],
  [0x03, "contentType", [T.Publish, W]],
  [0x08, "responseTopic", [T.Publish, W]],
  [0x09, "correlationData", [T.Publish, W]],
  [0x0b, "subscriptionIdentifiers", [T.Publish, T.Subscribe]],
  [0x11, "sessionExpiryInterval", [T.Connect, T.Connack, T.Disconnect]],
  [0x12, "assignedClientIdentifier", [T.Connack]],
  [0x13, "serverKeepAlive", [T.Connack]],
  [0x15, "authenticationMethod", [T.Connect, T.Connack, T.Auth]],
  [0x16, "authenticationData", [T.Connect, T.Connack, T.Auth]],
  [0x17, "requestProblemInformation", [T.Connect]],
  [0x18, "willDelayInterval", [W]],
  [0x19, "requestResponseInformation", [T.Connect]],
  [0x1a, "responseInformation", [T.Connack]],
  [0x1c, "serverReference", [T.Connack, T.Disconnect]],
  [0x1f, "reasonString", R],
  [0x21, "receiveMaximum", [T.Connect, T.Connack]],
  [0x22, "topicAliasMaximum", [T.Connect, T.Connack]],
  [0x23, "topicAlias", [T.Publish]],
  [0x24, "maximumQoS", [T.Connack]],
  [0x25, "retainAvailable", [T.Connack]],
  [0x26, "userProperties", [
    W,
    ...Array.from({ length: 11 }, (_, i) => i + 1),
    T.Disconnect,
    T.Auth,
  ]],
  [0x27, "maximumPacketSize", [T.Connect, T.Connack]],
  [0x28, "wildcardSubscriptionAvailable", [T.Connack]],
  [0x29, "subscriptionIdentifiersAvailable", [T.Connack]],
  [0x2a, "sharedSubscriptionAvailable", [T.Connack]],
];

Deno.test("PROPERTIES matches MQTT 5 table 2-4 (ids, names and packets)", () => {
  assert.deepEqual(PROPERTIES.map((d) => [d.id, d.key]), SPEC.map(([id, key]) => [id, key]));
  for (const [id, key, packets] of SPEC) {
    for (let type = 0; type <= 15; type++) {
      assert.equal(isPropertyAllowed(id, type), packets.includes(type), `${key} on type ${type}`);
    }
  }
  for (let id = 0; id < 256; id++) {
    if (!SPEC.some(([s]) => s === id)) assert.equal(isPropertyAllowed(id, T.Publish), false);
  }
});

Deno.test("encodeProperties() writes ids in ascending order whatever the key order", () => {
  const a = encode({
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
    properties: { userProperties: [["a", "b"]], receiveMaximum: 5, sessionExpiryInterval: 1 },
  }, { protocolVersion: 5 });
  const b = encode({
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
    properties: { sessionExpiryInterval: 1, receiveMaximum: 5, userProperties: [["a", "b"]] },
  }, { protocolVersion: 5 });
  assert.deepEqual(a, b);
  assert.equal(a[5], 0x11);
});

Deno.test("encodeProperties() skips undefined values and unknown keys", () => {
  const bytes = encode({
    type: "disconnect",
    reasonCode: 0,
    properties: { reasonString: undefined, bogus: 1 } as unknown as Record<string, never>,
  }, { protocolVersion: 5 });
  assert.deepEqual(bytes, new Uint8Array([0xe0, 0x02, 0x00, 0x00]));
});

Deno.test("encodeProperties() requires an authentication method with authentication data", () => {
  assert.throws(
    () =>
      encode({
        type: "auth",
        reasonCode: 0x18,
        properties: { authenticationData: new Uint8Array(1) },
      }, {
        protocolVersion: 5,
      }),
    {
      name: "TypeError",
      message: "Cannot encode AUTH: property authenticationData requires authenticationMethod",
    },
  );
});

const connack = { type: "connack", sessionPresent: false, reasonCode: 0 } as const;
testEncodeRejects("encodeProperties() rejects", [
  {
    name: "a numeric boolean property",
    version: 5,
    packet: { ...connack, properties: { retainAvailable: 1 } },
    error: TypeError,
    message: /property retainAvailable must be a boolean/,
  },
  {
    name: "a two-byte integer over 65535",
    version: 5,
    packet: { ...connack, properties: { serverKeepAlive: 65_536 } },
    error: RangeError,
    message: /property serverKeepAlive must be 0\.\.65535/,
  },
  {
    name: "a four-byte integer over 2^32 - 1",
    version: 5,
    packet: { ...connack, properties: { sessionExpiryInterval: 2 ** 32 } },
    error: RangeError,
    message: /property sessionExpiryInterval must be 0\.\.4294967295/,
  },
  {
    name: "a non-string string property",
    version: 5,
    packet: { ...connack, properties: { reasonString: 5 } },
    error: TypeError,
    message: /property reasonString must be a string/,
  },
  {
    name: "a string property with a lone surrogate",
    version: 5,
    packet: { ...connack, properties: { reasonString: "\udfff" } },
    error: TypeError,
    message: /property reasonString must be well-formed/,
  },
  {
    name: "a non-binary binary property",
    version: 5,
    packet: { ...connack, properties: { authenticationMethod: "m", authenticationData: [1] } },
    error: TypeError,
    message: /property authenticationData must be a Uint8Array/,
  },
  {
    name: "user properties that are not an array",
    version: 5,
    packet: { ...connack, properties: { userProperties: { a: "b" } } },
    error: TypeError,
    message: /property userProperties must be an array/,
  },
  {
    name: "a user property with a non-string value",
    version: 5,
    packet: { ...connack, properties: { userProperties: [["a", 1]] } },
    error: TypeError,
    message: /property userProperties must be a string/,
  },
  {
    name: "a will property on the packet",
    version: 5,
    packet: { ...connack, properties: { willDelayInterval: 1 } },
    error: TypeError,
    message: /property willDelayInterval is not allowed/,
  },
]);
