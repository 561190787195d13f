// Decoder/encoder symmetry over mutated packets: whatever the decoder
// accepts, the encoder accepts too and writes bytes that decode to the same
// packet; whatever it refuses, it refuses with MqttDecodeError only.
import assert from "node:assert/strict";
import { decodePacket } from "./decode_packet.ts";
import { encode } from "./encode.ts";
import { MqttDecodeError } from "./errors.ts";
import type { Packet, ProtocolVersion } from "./types.ts";
import { utf8 } from "./_test_vectors.ts";

const SEEDS: [Packet, ProtocolVersion][] = [
  [{
    type: "connect",
    protocolVersion: 5,
    clientId: "dev",
    clean: true,
    keepalive: 60,
    username: "u",
    password: utf8("p"),
    will: {
      topic: "w",
      payload: utf8("x"),
      qos: 1,
      retain: true,
      properties: { willDelayInterval: 5 },
    },
    properties: { sessionExpiryInterval: 10, userProperties: [["a", "b"]] },
  }, 5],
  [{
    type: "connect",
    protocolVersion: 4,
    clientId: "c",
    clean: false,
    keepalive: 1,
    username: "u",
  }, 4],
  [{ type: "connect", protocolVersion: 3, clientId: "c", clean: true, keepalive: 60 }, 3],
  [{ type: "connack", sessionPresent: true, reasonCode: 0, properties: { maximumQoS: 1 } }, 5],
  [{ type: "connack", sessionPresent: false, reasonCode: 2 }, 4],
  [{
    type: "publish",
    topic: "a/é",
    payload: utf8("hi"),
    qos: 2,
    retain: true,
    dup: true,
    packetId: 7,
    properties: { subscriptionIdentifiers: [1, 300], contentType: "x", topicAlias: 2 },
  }, 5],
  [{
    type: "publish",
    topic: "a/b",
    payload: utf8("hi"),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 9,
  }, 4],
  [{ type: "pubrel", packetId: 1, reasonCode: 0x92, properties: { reasonString: "nf" } }, 5],
  [{ type: "puback", packetId: 3 }, 4],
  [{
    type: "subscribe",
    packetId: 3,
    subscriptions: [
      { topicFilter: "a/+", qos: 1, noLocal: false, retainAsPublished: true, retainHandling: 1 },
      {
        topicFilter: "$share/g/#",
        qos: 2,
        noLocal: false,
        retainAsPublished: false,
        retainHandling: 0,
      },
    ],
    properties: { subscriptionIdentifiers: [5] },
  }, 5],
  [{ type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "#", qos: 0 }] }, 4],
  [{ type: "suback", packetId: 3, reasonCodes: [1, 0x80] }, 4],
  [{ type: "unsubscribe", packetId: 4, topicFilters: ["a/+", "b"] }, 5],
  [{ type: "unsuback", packetId: 4, reasonCodes: [0, 0x11] }, 5],
  [{ type: "disconnect", reasonCode: 0x8e, properties: { serverReference: "s" } }, 5],
  [{ type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "m" } }, 5],
];

Deno.test("decodePacket() and encode() agree on 20,000 mutated packets", () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  const encoded = SEEDS.map(([p, v]) => [encode(p, { protocolVersion: v }), v] as const);
  let accepted = 0;
  for (let n = 0; n < 20_000; n++) {
    const [original, version] = encoded[rand(encoded.length)]!;
    const bytes = original.slice();
    for (let k = 1 + rand(3); k > 0; k--) {
      const at = rand(bytes.length);
      bytes[at] = bytes[at]! ^ (1 << rand(8));
    }
    let packet: Packet;
    try {
      packet = decodePacket(bytes, { protocolVersion: version });
    } catch (e) {
      if (!(e instanceof MqttDecodeError)) throw e;
      continue;
    }
    accepted++;
    const level = packet.type === "connect" ? packet.protocolVersion : version;
    const again = encode(packet, { protocolVersion: level });
    assert.deepEqual(decodePacket(again, { protocolVersion: level }), packet);
  }
  assert.ok(accepted > 1000, `only ${accepted} mutations decoded`);
});
