/**
 * Hand-picked malformed packets, each breaking one statement of the MQTT
 * specifications: every codec engine must refuse each with an
 * `MqttDecodeError` of a fitting code, whether the bytes arrive whole or one
 * at a time. Written from the specifications, independently of the codec's
 * own table-driven vectors.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type Codec,
  MqttDecodeError,
  type MqttDecodeErrorCode,
  type Packet,
  type ProtocolVersion,
} from "../core/codec/mod.ts";
import { engineLabel, engines } from "./_engines.ts";
import { describePacket, toHex } from "./_gen_packets.ts";

const utf8 = new TextEncoder();
const u16 = (n: number) => [n >> 8, n & 0xff];
const str = (s: string | number[]) => {
  const b = typeof s === "string" ? [...utf8.encode(s)] : s;
  return [...u16(b.length), ...b];
};
/** A packet: first byte, then the body with its remaining length in front. */
function pkt(first: number, ...body: number[][]): Uint8Array {
  const flat = body.flat();
  const len: number[] = [];
  let n = flat.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n >>= 7;
  } while (n > 0);
  return new Uint8Array([first, ...len, ...flat]);
}
const props = (...p: number[][]) => [p.flat().length, ...p.flat()]; // property block, length < 128
const connect4 = (flags: number, ...rest: number[][]) =>
  pkt(0x10, str("MQTT"), [4, flags], u16(60), str("c"), ...rest);
const connect5 = (flags: number, p: number[], ...rest: number[][]) =>
  pkt(0x10, str("MQTT"), [5, flags], u16(60), p, str("c"), ...rest);
const publish5 = (p: number[]) => pkt(0x30, str("t"), p, [1, 2]);
const subscribe = (options: number, filter = "a/b", p: number[] = []) =>
  pkt(0x82, u16(1), p, str(filter), [options]);

type Vector = [
  what: string,
  version: ProtocolVersion,
  bytes: Uint8Array,
  codes: MqttDecodeErrorCode[],
];

const MALFORMED = "MALFORMED_PACKET";
const PROP = "INVALID_PROPERTY";
const LEN = "LENGTH_MISMATCH";
const UTF = "INVALID_UTF8";
const TOPIC = "INVALID_TOPIC";
const RC = "INVALID_REASON_CODE";
const FLAGS = "INVALID_HEADER_FLAGS";

/** Inputs the specifications forbid, each with the statement it breaks and the codes allowed. */
const MALFORMED_VECTORS: Vector[] = [
  ["packet type 0 [MQTT-2.1.3]", 4, pkt(0x00), ["INVALID_PACKET_TYPE"]],
  ["AUTH below MQTT 5 (§3.15)", 4, pkt(0xf0), ["INVALID_PACKET_TYPE"]],
  ["CONNECT reserved flag [MQTT-3.1.2-3]", 4, connect4(0x03), [MALFORMED]],
  ["CONNECT Will QoS without Will Flag [MQTT-3.1.2-13]", 4, connect4(0x0a), [
    MALFORMED,
    "INVALID_QOS",
  ]],
  ["CONNECT Will Retain without Will Flag [MQTT-3.1.2-15]", 4, connect4(0x22), [MALFORMED]],
  ["CONNECT Will QoS 3 [MQTT-3.1.2-14]", 4, connect4(0x1e, str("w"), str("p")), ["INVALID_QOS"]],
  ["CONNECT password without user name [MQTT-3.1.2-22]", 4, connect4(0x42, str("pw")), [MALFORMED]],
  [
    "CONNECT protocol level 6 [MQTT-3.1.2-2]",
    4,
    pkt(0x10, str("MQTT"), [6, 2], u16(60), str("c")),
    ["UNSUPPORTED_PROTOCOL"],
  ],
  [
    "CONNECT protocol name MQTX [MQTT-3.1.2-1]",
    4,
    pkt(0x10, str("MQTX"), [4, 2], u16(60), str("c")),
    ["UNSUPPORTED_PROTOCOL"],
  ],
  ["CONNECT byte after the payload", 4, connect4(0x02, [0]), [LEN]],
  [
    "CONNECT client id with encoded U+0000 (C0 80) [MQTT-1.5.4-1]",
    4,
    pkt(0x10, str("MQTT"), [4, 2], u16(60), str([0xc0, 0x80])),
    [UTF],
  ],
  [
    "CONNECT Authentication Data without Method (§3.1.2.11.10)",
    5,
    connect5(0x02, props([0x16, ...str("x")])),
    [PROP],
  ],
  [
    "CONNECT will property Topic Alias (§3.1.3.2)",
    5,
    connect5(0x06, props(), props([0x23, 0, 1]), str("w"), str("p")),
    [PROP],
  ],
  ["CONNECT Receive Maximum 0 (§3.1.2.11.3)", 5, connect5(0x02, props([0x21, 0, 0])), [PROP]],
  ["CONNECT Maximum Packet Size 0 (§3.1.2.11.4)", 5, connect5(0x02, props([0x27, 0, 0, 0, 0])), [
    PROP,
  ]],
  ["CONNECT Request Problem Information 2 (§3.1.2.11.7)", 5, connect5(0x02, props([0x17, 2])), [
    PROP,
  ]],
  ["PUBLISH topic with '+' [MQTT-3.3.2-2]", 4, pkt(0x30, str("a/+"), [1]), [TOPIC]],
  ["PUBLISH topic '#' [MQTT-3.3.2-2]", 4, pkt(0x30, str("#")), [TOPIC]],
  ["PUBLISH empty topic [MQTT-4.7.3-1]", 4, pkt(0x30, str(""), [1]), [TOPIC]],
  ["PUBLISH empty topic without Topic Alias (§3.3.2.1)", 5, pkt(0x30, str(""), props(), [1]), [
    TOPIC,
  ]],
  ["PUBLISH QoS 1 packet id 0 [MQTT-2.2.1-3]", 4, pkt(0x32, str("t"), u16(0)), [
    "INVALID_PACKET_ID",
  ]],
  ["PUBLISH QoS 0 with DUP [MQTT-3.3.1-2]", 4, pkt(0x38, str("t")), [MALFORMED]],
  ["PUBLISH QoS 3 [MQTT-3.3.1-4]", 4, pkt(0x36, str("t"), u16(1)), ["INVALID_QOS"]],
  ["PUBLISH topic length past the packet", 4, pkt(0x30, u16(9), [0x74]), [LEN]],
  ["PUBLISH topic with U+0000 [MQTT-1.5.4-2]", 4, pkt(0x30, str([0x61, 0x00])), [UTF, TOPIC]],
  [
    "PUBLISH topic with a surrogate (ED A0 80) [MQTT-1.5.4-1]",
    4,
    pkt(0x30, str([0xed, 0xa0, 0x80])),
    [UTF],
  ],
  [
    "PUBLISH topic above U+10FFFF (F4 90 80 80) [MQTT-1.5.4-1]",
    4,
    pkt(0x30, str([0xf4, 0x90, 0x80, 0x80])),
    [UTF],
  ],
  [
    "PUBLISH topic with a truncated sequence (E2 82) [MQTT-1.5.4-1]",
    4,
    pkt(0x30, str([0x61, 0xe2, 0x82])),
    [UTF],
  ],
  [
    "PUBLISH topic with overlong '/' (C0 AF) [MQTT-1.5.4-1]",
    4,
    pkt(0x30, str([0x61, 0xc0, 0xaf])),
    [UTF],
  ],
  ["PUBLISH Payload Format Indicator 2 (§3.3.2.3.2)", 5, publish5(props([0x01, 2])), [PROP]],
  [
    "PUBLISH Message Expiry Interval twice (§2.2.2.2)",
    5,
    publish5(props([0x02, 0, 0, 0, 1], [0x02, 0, 0, 0, 2])),
    [PROP],
  ],
  ["PUBLISH Topic Alias 0 (§3.3.2.3.4)", 5, publish5(props([0x23, 0, 0])), [PROP]],
  ["PUBLISH Subscription Identifier 0 (§3.3.2.3.8)", 5, publish5(props([0x0b, 0])), [PROP]],
  ["PUBLISH unknown property 0x05 (§2.2.2.2)", 5, publish5(props([0x05, 0])), [PROP]],
  [
    "PUBLISH Session Expiry Interval, not allowed (§2.2.2.2)",
    5,
    publish5(props([0x11, 0, 0, 0, 1])),
    [PROP],
  ],
  [
    "PUBLISH property identifier not minimally encoded [MQTT-1.5.5-1]",
    5,
    publish5(props([0x81, 0x00, 1])),
    [MALFORMED, PROP],
  ],
  [
    "PUBLISH property length not minimally encoded [MQTT-1.5.5-1]",
    5,
    pkt(0x30, str("t"), [0x80, 0x00]),
    [MALFORMED],
  ],
  ["PUBLISH property length past the packet", 5, pkt(0x30, str("t"), [9, 0x01, 0x01]), [
    LEN,
    MALFORMED,
  ]],
  ["PUBLISH property value past its block", 5, pkt(0x30, str("t"), [2, 0x02, 0, 0, 0, 1]), [
    LEN,
    MALFORMED,
    PROP,
  ]],
  [
    "PUBLISH Response Topic with a wildcard [MQTT-3.3.2-14]",
    5,
    publish5(props([0x08, ...str("a/#")])),
    [PROP, TOPIC],
  ],
  [
    "PUBLISH user property with invalid UTF-8 [MQTT-1.5.4-1]",
    5,
    publish5(props([0x26, ...str([0xff]), ...str("v")])),
    [UTF],
  ],
  [
    "PUBLISH 5-byte Subscription Identifier [MQTT-1.5.5-1]",
    5,
    publish5(props([0x0b, 0xff, 0xff, 0xff, 0xff, 0x01])),
    [MALFORMED, PROP],
  ],
  ["SUBSCRIBE flags 0000 [MQTT-3.8.1-1]", 4, pkt(0x80, u16(1), str("a"), [0]), [FLAGS]],
  ["SUBSCRIBE without subscriptions [MQTT-3.8.3-3]", 4, pkt(0x82, u16(1)), [MALFORMED]],
  ["SUBSCRIBE packet id 0 [MQTT-2.2.1-3]", 4, pkt(0x82, u16(0), str("a"), [0]), [
    "INVALID_PACKET_ID",
  ]],
  ["SUBSCRIBE 3.1.1 reserved option bits [MQTT-3.8.3-4]", 4, subscribe(0x04), [MALFORMED]],
  ["SUBSCRIBE QoS 3 [MQTT-3.8.3-4]", 4, subscribe(0x03), ["INVALID_QOS"]],
  ["SUBSCRIBE 5.0 reserved option bits [MQTT-3.8.3-5]", 5, subscribe(0x40, "a", props()), [
    MALFORMED,
  ]],
  ["SUBSCRIBE Retain Handling 3 (§3.8.3.1)", 5, subscribe(0x30, "a", props()), [MALFORMED]],
  [
    "SUBSCRIBE No Local on a shared subscription [MQTT-3.8.3-4]",
    5,
    subscribe(0x04, "$share/g/a", props()),
    [MALFORMED, TOPIC],
  ],
  ["SUBSCRIBE filter 'a#' [MQTT-4.7.1-2]", 4, subscribe(0, "a#"), [TOPIC]],
  ["SUBSCRIBE filter '#/a' [MQTT-4.7.1-2]", 4, subscribe(0, "#/a"), [TOPIC]],
  ["SUBSCRIBE filter 'a+/b' [MQTT-4.7.1-3]", 4, subscribe(0, "a+/b"), [TOPIC]],
  ["SUBSCRIBE empty filter [MQTT-4.7.3-1]", 4, subscribe(0, ""), [TOPIC]],
  ["SUBSCRIBE '$share/g' [MQTT-4.8.2-2]", 5, subscribe(0, "$share/g", props()), [TOPIC]],
  ["SUBSCRIBE '$share//a' [MQTT-4.8.2-1]", 5, subscribe(0, "$share//a", props()), [TOPIC]],
  ["SUBSCRIBE '$share/a+b/c' [MQTT-4.8.2-2]", 5, subscribe(0, "$share/a+b/c", props()), [TOPIC]],
  [
    "SUBSCRIBE two Subscription Identifiers (§3.8.2.1.2)",
    5,
    subscribe(0, "a", props([0x0b, 1], [0x0b, 2])),
    [PROP],
  ],
  ["UNSUBSCRIBE flags 0000 [MQTT-3.10.1-1]", 4, pkt(0xa0, u16(1), str("a")), [FLAGS]],
  ["UNSUBSCRIBE without filters [MQTT-3.10.3-2]", 4, pkt(0xa2, u16(1)), [MALFORMED]],
  ["UNSUBSCRIBE filter 'a/#/b' [MQTT-4.7.1-2]", 4, pkt(0xa2, u16(1), str("a/#/b")), [TOPIC]],
  ["PUBREL flags 0000 [MQTT-3.6.1-1]", 4, pkt(0x60, u16(1)), [FLAGS]],
  ["PUBACK flags 0010 [MQTT-2.2.2-2]", 4, pkt(0x42, u16(1)), [FLAGS]],
  ["PUBACK packet id 0 [MQTT-2.2.1-3]", 4, pkt(0x40, u16(0)), ["INVALID_PACKET_ID"]],
  ["PUBACK 3.1.1 with 3 bytes", 4, pkt(0x40, u16(1), [0]), [LEN]],
  ["PUBACK 1 byte", 4, pkt(0x40, [1]), [LEN, MALFORMED]],
  ["PUBACK reason code 0x01 (§3.4.2.1)", 5, pkt(0x40, u16(1), [0x01]), [RC]],
  ["PUBREL reason code 0x10 (§3.6.2.1)", 5, pkt(0x62, u16(1), [0x10]), [RC]],
  [
    "PUBACK Reason String twice (§3.4.2.2.2)",
    5,
    pkt(0x40, u16(1), [0x80], props([0x1f, ...str("a")], [0x1f, ...str("b")])),
    [PROP],
  ],
  ["SUBACK code 3 [MQTT-3.9.3-2]", 4, pkt(0x90, u16(1), [3]), [RC]],
  ["SUBACK without codes (§3.9.3)", 4, pkt(0x90, u16(1)), [MALFORMED]],
  ["SUBACK code 0x03 (§3.9.3)", 5, pkt(0x90, u16(1), props(), [3]), [RC]],
  ["UNSUBACK 3.1.1 with 3 bytes", 4, pkt(0xb0, u16(1), [0]), [LEN]],
  ["UNSUBACK code 0x01 (§3.11.3)", 5, pkt(0xb0, u16(1), props(), [1]), [RC]],
  ["CONNACK reserved flags [MQTT-3.2.2-1]", 4, pkt(0x20, [0x02, 0]), [MALFORMED]],
  ["CONNACK return code 6 (§3.2.2.3)", 4, pkt(0x20, [0, 6]), [RC]],
  ["CONNACK session present with a refusal [MQTT-3.2.2-4]", 4, pkt(0x20, [1, 5]), [MALFORMED]],
  ["CONNACK 3.1.1 with 3 bytes", 4, pkt(0x20, [0, 0, 0]), [LEN]],
  ["CONNACK reason code 0x01 with properties (§3.2.2.2)", 5, pkt(0x20, [0, 0x01], props()), [RC]],
  ["CONNACK Maximum QoS 2 (§3.2.2.3.4)", 5, pkt(0x20, [0, 0], props([0x24, 2])), [PROP]],
  ["PINGREQ with a body [MQTT-3.12]", 4, pkt(0xc0, [0]), [LEN, MALFORMED]],
  ["PINGRESP flags 0001 [MQTT-2.2.2-2]", 4, pkt(0xd1), [FLAGS]],
  ["DISCONNECT 3.1.1 with a body", 4, pkt(0xe0, [0]), [LEN, MALFORMED]],
  ["DISCONNECT reason code 0x05 (§3.14.2.1)", 5, pkt(0xe0, [0x05]), [RC]],
  ["DISCONNECT flags 0001 [MQTT-3.14.1-1]", 5, pkt(0xe1), [FLAGS]],
  ["AUTH reason code 0x01 (§3.15.2.1)", 5, pkt(0xf0, [0x01], props()), [RC]],
];

/** Problems found feeding every vector to `engine`, whole and byte by byte. */
function check(engine: Codec): string[] {
  const problems: string[] = [];
  for (const [what, version, bytes, codes] of MALFORMED_VECTORS) {
    for (const byteByByte of [false, true]) {
      const decoder = engine.createDecoder({ protocolVersion: version });
      try {
        const out: Packet[] = [];
        if (byteByByte) {
          for (const b of bytes) out.push(...decoder.push(new Uint8Array([b])));
        } else {
          out.push(...decoder.push(bytes));
        }
        problems.push(`${what}: accepted ${toHex(bytes)} as ${describePacket(out)}`);
      } catch (e) {
        if (!(e instanceof MqttDecodeError)) problems.push(`${what}: threw ${String(e)}`);
        else if (!codes.includes(e.code)) {
          problems.push(`${what}: code ${e.code} (${e.message}), expected ${codes.join(" or ")}`);
        }
      }
    }
  }
  return problems;
}

for (const engine of engines) {
  // Registered first in this file, so it sees the engine as freshly loaded (no packet
  // decoded yet, caches empty); the second test sees it after traffic.
  Deno.test(`MqttDecoder refuses ${MALFORMED_VECTORS.length} hand-picked malformed packets (${engineLabel(engine)} engine)`, () => {
    assert.deepEqual(check(engine), []);
  });
}

for (const engine of engines) {
  Deno.test(`MqttDecoder refuses the malformed packets after decoding valid traffic (${engineLabel(engine)} engine)`, () => {
    for (const version of [3, 4, 5] as const) {
      const decoder = engine.createDecoder({ protocolVersion: version });
      for (const topic of ["t", "a/b", "ab"]) {
        for (const qos of [0, 1] as const) {
          const p: Packet = {
            type: "publish",
            topic,
            payload: new Uint8Array([1, 2]),
            qos,
            retain: false,
            dup: false,
            ...(qos > 0 ? { packetId: 1 } : {}),
          };
          assert.equal(decoder.push(engine.encode(p, { protocolVersion: version })).length, 1);
        }
      }
    }
    assert.deepEqual(check(engine), []);
  });
}
