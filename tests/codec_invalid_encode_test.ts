/**
 * Encoder validation fuzz: random valid packets, each broken by one rule of
 * the specifications, must be refused by `encode()`, `encodedLength()` and
 * `encodeInto()` of every engine with a `TypeError` or `RangeError` whose
 * message names the field, before a byte is written. The oracle in
 * `codec_spec_rules.ts` confirms each mutation really breaks a rule.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Packet, PacketTypeName, ProtocolVersion } from "../core/codec/mod.ts";
import { engineLabel, engines } from "./_engines.ts";
import { describePacket, packetViolation, Prng, randomPacket } from "./_gen_packets.ts";

type Any = Record<string, unknown>;

interface Rule {
  /** What the mutation breaks, with its spec statement. */
  what: string;
  type: PacketTypeName;
  versions: readonly ProtocolVersion[];
  /** Text the error message must contain (the field's name). */
  field: string;
  /** Breaks `p` (a deep-enough copy may be mutated). */
  mutate(p: Any, version: ProtocolVersion): void;
}

const ALL: readonly ProtocolVersion[] = [3, 4, 5];
const V5: readonly ProtocolVersion[] = [5];
const props = (p: Any): Any => (p.properties ??= {}) as Any;
const will = (p: Any): Any => {
  p.will ??= { topic: "w", payload: new Uint8Array(0), qos: 0, retain: false };
  p.will = { ...(p.will as Any) };
  return p.will as Any;
};

const RULES: Rule[] = [
  {
    what: "PUBLISH QoS 3 [MQTT-3.3.1-4]",
    type: "publish",
    versions: ALL,
    field: "qos",
    mutate: (p) => p.qos = 3,
  },
  {
    what: "PUBLISH QoS 1 without packet id [MQTT-2.2.1-3]",
    type: "publish",
    versions: ALL,
    field: "packetId",
    mutate: (p) => {
      p.qos = 1;
      delete p.packetId;
    },
  },
  {
    what: "PUBLISH packet id 0 [MQTT-2.2.1-3]",
    type: "publish",
    versions: ALL,
    field: "packetId",
    mutate: (p) => {
      p.qos = 2;
      p.packetId = 0;
    },
  },
  {
    what: "PUBLISH packet id 65536",
    type: "publish",
    versions: ALL,
    field: "packetId",
    mutate: (p) => {
      p.qos = 1;
      p.packetId = 65_536;
    },
  },
  {
    what: "PUBLISH DUP on QoS 0 [MQTT-3.3.1-2]",
    type: "publish",
    versions: ALL,
    field: "dup",
    mutate: (p) => {
      p.qos = 0;
      p.dup = true;
      delete p.packetId;
    },
  },
  {
    what: "PUBLISH topic with '+' [MQTT-3.3.2-2]",
    type: "publish",
    versions: ALL,
    field: "topic",
    mutate: (p) => p.topic = "a/+/b",
  },
  {
    what: "PUBLISH topic with '#' [MQTT-3.3.2-2]",
    type: "publish",
    versions: ALL,
    field: "topic",
    mutate: (p) => p.topic = "a/#",
  },
  {
    what: "PUBLISH topic with U+0000 [MQTT-1.5.4-2]",
    type: "publish",
    versions: ALL,
    field: "topic",
    mutate: (p) => p.topic = "a\0b",
  },
  {
    what: "PUBLISH topic with a lone surrogate [MQTT-1.5.4-1]",
    type: "publish",
    versions: ALL,
    field: "topic",
    mutate: (p) => p.topic = "a\uD800",
  },
  {
    what: "PUBLISH empty topic without Topic Alias [MQTT-4.7.3-1]",
    type: "publish",
    versions: ALL,
    field: "topic",
    mutate: (p) => {
      p.topic = "";
      if (p.properties !== undefined) {
        p.properties = { ...(p.properties as Any), topicAlias: undefined };
      }
    },
  },
  {
    what: "PUBLISH topic of 65536 bytes [MQTT-1.5.4]",
    type: "publish",
    versions: ALL,
    field: "topic",
    mutate: (p) => p.topic = "x".repeat(65_536),
  },
  {
    what: "PUBLISH payload not bytes",
    type: "publish",
    versions: ALL,
    field: "payload",
    mutate: (p) => p.payload = "text",
  },
  {
    what: "PUBLISH Topic Alias 0 (§3.3.2.3.4)",
    type: "publish",
    versions: V5,
    field: "topicAlias",
    mutate: (p) => props(p).topicAlias = 0,
  },
  {
    what: "PUBLISH Session Expiry Interval, not allowed (§2.2.2.2)",
    type: "publish",
    versions: V5,
    field: "sessionExpiryInterval",
    mutate: (p) => props(p).sessionExpiryInterval = 1,
  },
  {
    what: "PUBLISH Subscription Identifier 0 (§3.3.2.3.8)",
    type: "publish",
    versions: V5,
    field: "subscriptionIdentifier",
    mutate: (p) => props(p).subscriptionIdentifiers = [0],
  },
  {
    what: "PUBLISH Message Expiry Interval 2^32",
    type: "publish",
    versions: V5,
    field: "messageExpiryInterval",
    mutate: (p) => props(p).messageExpiryInterval = 2 ** 32,
  },
  {
    what: "PUBLISH Message Expiry Interval 1.5",
    type: "publish",
    versions: V5,
    field: "messageExpiryInterval",
    mutate: (p) => props(p).messageExpiryInterval = 1.5,
  },
  {
    what: "PUBLISH Response Topic with '#' [MQTT-3.3.2-14]",
    type: "publish",
    versions: V5,
    field: "responseTopic",
    mutate: (p) => props(p).responseTopic = "r/#",
  },
  {
    what: "PUBLISH Correlation Data not bytes",
    type: "publish",
    versions: V5,
    field: "correlationData",
    mutate: (p) => props(p).correlationData = "id",
  },
  {
    what: "PUBLISH user property with U+0000 [MQTT-1.5.4-2]",
    type: "publish",
    versions: V5,
    field: "userProperties",
    mutate: (p) => props(p).userProperties = [["k", "a\0"]],
  },
  {
    what: "CONNECT protocol level 6",
    type: "connect",
    versions: ALL,
    field: "protocolVersion",
    mutate: (p) => p.protocolVersion = 6,
  },
  {
    what: "CONNECT keepalive 65536",
    type: "connect",
    versions: ALL,
    field: "keepalive",
    mutate: (p) => p.keepalive = 65_536,
  },
  {
    what: "CONNECT keepalive -1",
    type: "connect",
    versions: ALL,
    field: "keepalive",
    mutate: (p) => p.keepalive = -1,
  },
  {
    what: "CONNECT client id with U+0000 [MQTT-1.5.4-2]",
    type: "connect",
    versions: ALL,
    field: "clientId",
    mutate: (p) => p.clientId = "c\0",
  },
  {
    what: "CONNECT will QoS 3 [MQTT-3.1.2-14]",
    type: "connect",
    versions: ALL,
    field: "qos",
    mutate: (p) => will(p).qos = 3,
  },
  {
    what: "CONNECT will topic with '#' [MQTT-4.7.1-1]",
    type: "connect",
    versions: ALL,
    field: "topic",
    mutate: (p) => will(p).topic = "w/#",
  },
  {
    what: "CONNECT empty will topic [MQTT-4.7.3-1]",
    type: "connect",
    versions: ALL,
    field: "topic",
    mutate: (p) => will(p).topic = "",
  },
  {
    what: "CONNECT password without user name [MQTT-3.1.2-22]",
    type: "connect",
    versions: [3, 4],
    field: "password",
    mutate: (p) => {
      delete p.username;
      p.password = new Uint8Array([1]);
    },
  },
  {
    what: "CONNECT Receive Maximum 0 (§3.1.2.11.3)",
    type: "connect",
    versions: V5,
    field: "receiveMaximum",
    mutate: (p) => props(p).receiveMaximum = 0,
  },
  {
    what: "CONNECT Maximum Packet Size 0 (§3.1.2.11.4)",
    type: "connect",
    versions: V5,
    field: "maximumPacketSize",
    mutate: (p) => props(p).maximumPacketSize = 0,
  },
  {
    what: "CONNECT Authentication Data without Method (§3.1.2.11.10)",
    type: "connect",
    versions: V5,
    field: "authentication",
    mutate: (p) => {
      p.properties = {
        ...(p.properties as Any),
        authenticationMethod: undefined,
        authenticationData: new Uint8Array(1),
      };
    },
  },
  {
    what: "CONNECT will property Topic Alias (§3.1.3.2)",
    type: "connect",
    versions: V5,
    field: "topicAlias",
    mutate: (p) => will(p).properties = { topicAlias: 1 },
  },
  {
    what: "CONNACK return code 6 (§3.2.2.3)",
    type: "connack",
    versions: [3, 4],
    field: "reasonCode",
    mutate: (p) => p.reasonCode = 6,
  },
  {
    what: "CONNACK reason code 0x01 (§3.2.2.2)",
    type: "connack",
    versions: V5,
    field: "reasonCode",
    mutate: (p) => p.reasonCode = 1,
  },
  {
    what: "CONNACK session present with a refusal [MQTT-3.2.2-4]",
    type: "connack",
    versions: [4, 5],
    field: "sessionPresent",
    mutate: (p, version) => {
      p.sessionPresent = true;
      p.reasonCode = version === 5 ? 0x80 : 5;
    },
  },
  {
    what: "CONNACK Maximum QoS 2 (§3.2.2.3.4)",
    type: "connack",
    versions: V5,
    field: "maximumQoS",
    mutate: (p) => props(p).maximumQoS = 2,
  },
  {
    what: "PUBACK packet id 0 [MQTT-2.2.1-3]",
    type: "puback",
    versions: ALL,
    field: "packetId",
    mutate: (p) => p.packetId = 0,
  },
  {
    what: "PUBREL packet id 0 [MQTT-2.2.1-3]",
    type: "pubrel",
    versions: ALL,
    field: "packetId",
    mutate: (p) => p.packetId = 0,
  },
  {
    what: "PUBACK reason code 0x01 (§3.4.2.1)",
    type: "puback",
    versions: V5,
    field: "reasonCode",
    mutate: (p) => p.reasonCode = 1,
  },
  {
    what: "PUBCOMP reason code 0x10 (§3.7.2.1)",
    type: "pubcomp",
    versions: V5,
    field: "reasonCode",
    mutate: (p) => p.reasonCode = 0x10,
  },
  {
    what: "PUBREC Topic Alias, not allowed (§2.2.2.2)",
    type: "pubrec",
    versions: V5,
    field: "topicAlias",
    mutate: (p) => props(p).topicAlias = 1,
  },
  {
    what: "SUBSCRIBE without subscriptions [MQTT-3.8.3-3]",
    type: "subscribe",
    versions: ALL,
    field: "subscriptions",
    mutate: (p) => p.subscriptions = [],
  },
  {
    what: "SUBSCRIBE packet id 0 [MQTT-2.2.1-3]",
    type: "subscribe",
    versions: ALL,
    field: "packetId",
    mutate: (p) => p.packetId = 0,
  },
  {
    what: "SUBSCRIBE filter 'a#' [MQTT-4.7.1-2]",
    type: "subscribe",
    versions: ALL,
    field: "topicFilter",
    mutate: (p) => p.subscriptions = [{ topicFilter: "a#", qos: 0 }],
  },
  {
    what: "SUBSCRIBE QoS 3 [MQTT-3.8.3-4]",
    type: "subscribe",
    versions: ALL,
    field: "qos",
    mutate: (p) => p.subscriptions = [{ topicFilter: "a", qos: 3 }],
  },
  {
    what: "SUBSCRIBE Retain Handling 3 (§3.8.3.1)",
    type: "subscribe",
    versions: V5,
    field: "retainHandling",
    mutate: (p) => p.subscriptions = [{ topicFilter: "a", qos: 0, retainHandling: 3 }],
  },
  {
    what: "SUBSCRIBE No Local on a shared subscription [MQTT-3.8.3-4]",
    type: "subscribe",
    versions: V5,
    field: "noLocal",
    mutate: (p) => p.subscriptions = [{ topicFilter: "$share/g/a", qos: 0, noLocal: true }],
  },
  {
    what: "SUBSCRIBE two Subscription Identifiers (§3.8.2.1.2)",
    type: "subscribe",
    versions: V5,
    field: "subscriptionIdentifier",
    mutate: (p) => props(p).subscriptionIdentifiers = [1, 2],
  },
  {
    what: "SUBACK without codes (§3.9.3)",
    type: "suback",
    versions: ALL,
    field: "reasonCodes",
    mutate: (p) => p.reasonCodes = [],
  },
  {
    what: "SUBACK code 3 [MQTT-3.9.3-2]",
    type: "suback",
    versions: ALL,
    field: "reasonCode",
    mutate: (p) => p.reasonCodes = [0, 3],
  },
  {
    what: "UNSUBSCRIBE without filters [MQTT-3.10.3-2]",
    type: "unsubscribe",
    versions: ALL,
    field: "topicFilters",
    mutate: (p) => p.topicFilters = [],
  },
  {
    what: "UNSUBSCRIBE filter 'a/#/b' [MQTT-4.7.1-2]",
    type: "unsubscribe",
    versions: ALL,
    field: "topicFilter",
    mutate: (p) => p.topicFilters = ["a/#/b"],
  },
  {
    what: "UNSUBACK packet id 0 [MQTT-2.2.1-3]",
    type: "unsuback",
    versions: ALL,
    field: "packetId",
    mutate: (p) => p.packetId = 0,
  },
  {
    what: "UNSUBACK code 0x01 (§3.11.3)",
    type: "unsuback",
    versions: V5,
    field: "reasonCode",
    mutate: (p) => p.reasonCodes = [0x01],
  },
  {
    what: "DISCONNECT reason code 0x05 (§3.14.2.1)",
    type: "disconnect",
    versions: V5,
    field: "reasonCode",
    mutate: (p) => p.reasonCode = 5,
  },
  {
    what: "DISCONNECT Topic Alias, not allowed (§2.2.2.2)",
    type: "disconnect",
    versions: V5,
    field: "topicAlias",
    mutate: (p) => props(p).topicAlias = 1,
  },
  {
    what: "AUTH reason code 0x01 (§3.15.2.1)",
    type: "auth",
    versions: V5,
    field: "reasonCode",
    mutate: (p) => p.reasonCode = 1,
  },
];

/** A copy deep enough for the mutations above (top level, properties, subscriptions). */
function copy(p: Packet): Any {
  const out: Any = { ...p };
  if (out.properties !== undefined) out.properties = { ...(out.properties as Any) };
  return out;
}

for (const engine of engines) {
  Deno.test(`encode() refuses packets that break the specification with TypeError or RangeError (${engineLabel(engine)} engine)`, () => {
    const rng = new Prng(0xbad);
    const problems: string[] = [];
    const buffer = new Uint8Array(80_000);
    for (const rule of RULES) {
      for (const version of rule.versions) {
        const before = problems.length;
        for (let n = 0; n < 25; n++) {
          const p = copy(randomPacket(rng, version, rule.type));
          if (rule.type === "connect") p.protocolVersion = version;
          rule.mutate(p, version);
          const packet = p as unknown as Packet;
          const opts = { protocolVersion: version };
          if (packetViolation(packet, version) === undefined) {
            problems.push(`${rule.what}: oracle sees no violation in ${describePacket(packet)}`);
            break;
          }
          buffer.fill(0xa5, 0, 16); // a refused packet leaves even its first byte unwritten
          for (
            const [name, call] of [
              ["encode", () => engine.encode(packet, opts)],
              ["encodedLength", () => engine.encodedLength(packet, opts)],
              ["encodeInto", () => engine.encodeInto(packet, buffer, 0, opts)],
            ] as const
          ) {
            try {
              call();
              problems.push(
                `${rule.what} (level ${version}): ${name} accepted ${describePacket(packet)}`,
              );
            } catch (e) {
              if (!(e instanceof TypeError || e instanceof RangeError)) {
                problems.push(`${rule.what} (level ${version}): ${name} threw ${String(e)}`);
              } else if (!e.message.includes(rule.field)) {
                problems.push(
                  `${rule.what} (level ${version}): ${name} message "${e.message}" does not name ${rule.field}`,
                );
              }
            }
          }
          if (buffer.subarray(0, 16).some((b) => b !== 0xa5)) {
            problems.push(
              `${rule.what} (level ${version}): encodeInto wrote bytes before refusing`,
            );
          }
          if (problems.length > before) break; // one report per rule and level
        }
      }
    }
    assert.deepEqual(problems, []);
  });
}
