/**
 * Seeded, deterministic generator of VALID MQTT packets of every type for
 * protocol levels 3, 4 and 5, a small PRNG shared by the conformance, fuzz
 * and wasm differential tests, and helpers to compare packets.
 *
 * Validity follows the specifications (MQTT 3.1, 3.1.1 and 5.0), e.g. DUP is
 * 0 on QoS 0 [MQTT-3.3.1-2], packet ids are non-zero [MQTT-2.2.1-3], topic
 * names have no wildcards [MQTT-3.3.2-2], strings have no U+0000
 * [MQTT-1.5.4-2] and each packet carries only the properties and reason codes
 * its table allows.
 *
 * @module
 */

import type {
  Packet,
  PacketTypeName,
  Properties,
  ProtocolVersion,
  QoS,
  Subscription,
  UserProperty,
  Will,
} from "../core/codec/types.ts";
import {
  ALLOWED_PROPERTIES,
  PACKET_TYPES,
  type PropertyContext,
  type PropertyName,
  REASON_CODES_V5,
} from "./codec_spec_rules.ts";

export { describePacket, normalizePacket, packetsEqual, toHex } from "./codec_compare.ts";
export { concat } from "../core/codec/_test_vectors.ts";
export {
  ALLOWED_PROPERTIES,
  PACKET_TYPES,
  packetViolation,
  REASON_CODES_V5,
} from "./codec_spec_rules.ts";

/** A small seeded PRNG (mulberry32): same seed, same sequence, on every engine. */
export class Prng {
  #state: number;

  /** @param seed Any 32-bit integer. */
  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** Next unsigned 32-bit integer. */
  u32(): number {
    let t = (this.#state = (this.#state + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.u32() / 0x1_0000_0000;
  }

  /** An integer in [min, max] (both inclusive). */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** `true` with probability `p`. */
  bool(p = 0.5): boolean {
    return this.float() < p;
  }

  /** A random element of `items` (non-empty). */
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.float() * items.length)]!;
  }

  /** `n` random bytes. */
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const v = this.u32();
      out[i] = v;
      out[i + 1] = v >>> 8;
      out[i + 2] = v >>> 16;
      out[i + 3] = v >>> 24;
    }
    for (; i < n; i++) out[i] = this.u32();
    return out;
  }

  /** A new PRNG seeded from this one. */
  fork(): Prng {
    return new Prng(this.u32());
  }
}

// ------------------------------------------------------------------ strings

/** Random code point of the given UTF-8 width (no U+0000, no surrogates). */
function codePoint(rng: Prng): number {
  const r = rng.float();
  if (r < 0.6) return rng.int(0x20, 0x7e); // printable ASCII
  if (r < 0.62) return rng.pick([0x01, 0x09, 0x0a, 0x1f, 0x7f, 0x85, 0x9f]); // controls (SHOULD NOT, legal)
  if (r < 0.75) return rng.int(0xa0, 0x7ff); // 2 bytes
  if (r < 0.88) return rng.int(0x800, 0xd7ff); // 3 bytes
  if (r < 0.9) return rng.pick([0xfeff, 0xfffd, 0xe000, 0xffff, 0xfffe]); // BOM, specials, non-characters
  if (r < 0.92) return rng.int(0xe000, 0xfffd);
  return rng.int(0x10000, 0x10ffff); // 4 bytes (surrogate pair in JS)
}

function charCount(rng: Prng): number {
  const r = rng.float();
  if (r < 0.08) return 0;
  if (r < 0.6) return rng.int(1, 8);
  if (r < 0.93) return rng.int(9, 40);
  if (r < 0.995) return rng.int(41, 300);
  return rng.int(301, 3000);
}

/**
 * A random well-formed string without U+0000 [MQTT-1.5.4-2] whose code points
 * avoid `forbidden`. Sometimes starts with U+FEFF, which a receiver must keep
 * [MQTT-1.5.4-3].
 */
export function randomString(rng: Prng, count = charCount(rng), forbidden = ""): string {
  let s = count > 0 && rng.bool(0.02) ? "\uFEFF" : "";
  while (s.length < count) {
    const cp = codePoint(rng);
    const ch = String.fromCodePoint(cp);
    if (forbidden.includes(ch)) continue;
    s += ch;
  }
  return s;
}

/** A random topic name: at least one character, no wildcards [MQTT-4.7.3-1] [MQTT-3.3.2-2]. */
function randomTopicName(rng: Prng): string {
  if (rng.bool(0.001)) return "t/".padEnd(65_535, "x"); // longest possible string [MQTT-1.5.4]
  const levels = rng.int(1, 6);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) {
    parts.push(randomString(rng, rng.bool(0.15) ? 0 : rng.int(1, 12), "+#/"));
  }
  const topic = parts.join("/");
  if (topic.length === 0) return rng.bool() ? "/" : "a";
  return rng.bool(0.03) ? "$" + topic : topic;
}

/** A random valid topic filter [MQTT-4.7.1-1] [MQTT-4.7.1-2] [MQTT-4.7.1-3]. */
function randomTopicFilter(rng: Prng, version: ProtocolVersion): string {
  if (version === 5 && rng.bool(0.05)) {
    // Shared subscription: "$share/" ShareName "/" filter [MQTT-4.8.2-1] [MQTT-4.8.2-2].
    return `$share/${randomString(rng, rng.int(1, 6), "+#/")}/${randomTopicFilter(rng, 4)}`;
  }
  const levels = rng.int(1, 6);
  const parts: string[] = [];
  for (let i = 0; i < levels; i++) {
    if (i === levels - 1 && rng.bool(0.15)) parts.push("#");
    else if (rng.bool(0.2)) parts.push("+");
    else parts.push(randomString(rng, rng.bool(0.1) ? 0 : rng.int(1, 10), "+#/"));
  }
  const filter = parts.join("/");
  return filter.length === 0 ? "/" : filter;
}

function payloadLength(rng: Prng): number {
  const r = rng.float();
  if (r < 0.1) return 0;
  if (r < 0.5) return rng.int(1, 64);
  if (r < 0.98) return rng.int(65, 2048);
  if (r < 0.9995) return rng.int(2049, 70_000);
  return rng.int(2_097_152 - 64, 2_200_000); // 4-byte remaining length
}

/** A random payload of 0..~2 KiB, occasionally larger. */
function randomPayload(rng: Prng, length = payloadLength(rng)): Uint8Array {
  return rng.bytes(length);
}

function textPayload(rng: Prng): Uint8Array {
  return new TextEncoder().encode(randomString(rng));
}

// --------------------------------------------------------------- properties

const U32_EDGES = [0, 1, 0x7fff_ffff, 0xffff_ffff];
const U16_EDGES = [0, 1, 0x7fff, 0xffff];
const VBI_EDGES = [1, 127, 128, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455];

function u32(rng: Prng, min = 0): number {
  return rng.bool(0.2) ? Math.max(min, rng.pick(U32_EDGES)) : rng.int(min, 0xffff_ffff);
}

function u16(rng: Prng, min = 0): number {
  return rng.bool(0.2) ? Math.max(min, rng.pick(U16_EDGES)) : rng.int(min, 0xffff);
}

/** Random user properties, with repeated names and empty strings [MQTT-3.3.2-18]. */
function randomUserProperties(rng: Prng): UserProperty[] {
  const names = ["a", "b", "1", "42", "", "région", "key"];
  const out: UserProperty[] = [];
  const n = rng.int(1, rng.bool(0.05) ? 40 : 5);
  for (let i = 0; i < n; i++) {
    const name = rng.bool(0.5) ? rng.pick(names) : randomString(rng);
    const value = rng.bool(0.15) ? "" : randomString(rng);
    out.push([name, value]);
  }
  return out;
}

function propertyValue(rng: Prng, name: PropertyName, context: PropertyContext): unknown {
  switch (name) {
    case "payloadFormatIndicator":
    case "requestProblemInformation":
    case "requestResponseInformation":
    case "retainAvailable":
    case "wildcardSubscriptionAvailable":
    case "subscriptionIdentifiersAvailable":
    case "sharedSubscriptionAvailable":
      return rng.bool();
    case "messageExpiryInterval":
    case "sessionExpiryInterval":
    case "willDelayInterval":
      return u32(rng);
    case "maximumPacketSize":
      return u32(rng, 1); // 0 is a Protocol Error (§3.1.2.11.4)
    case "contentType":
    case "assignedClientIdentifier":
    case "authenticationMethod":
    case "responseInformation":
    case "serverReference":
    case "reasonString":
      return randomString(rng);
    case "responseTopic":
      return randomTopicName(rng); // a topic name, no wildcards [MQTT-3.3.2-14]
    case "correlationData":
    case "authenticationData":
      return rng.bytes(rng.int(0, 64));
    case "subscriptionIdentifiers": {
      // Several only on a PUBLISH; one on SUBSCRIBE (§3.8.2.1.2). Value 0 is a Protocol Error.
      const n = context === "publish" ? rng.int(1, 4) : 1;
      return Array.from(
        { length: n },
        () => rng.bool(0.3) ? rng.pick(VBI_EDGES) : rng.int(1, 268_435_455),
      );
    }
    case "serverKeepAlive":
    case "topicAliasMaximum":
      return u16(rng);
    case "receiveMaximum":
    case "topicAlias":
      return u16(rng, 1); // 0 is a Protocol Error (§3.1.2.11.3, §3.3.2.3.4)
    case "maximumQoS":
      return rng.int(0, 1);
    case "userProperties":
      return randomUserProperties(rng);
  }
}

/** Random properties allowed for `context`, or `undefined`. */
function randomProperties(
  rng: Prng,
  context: PropertyContext,
  density = rng.pick([0, 0.15, 0.4, 1]),
): Properties | undefined {
  if (rng.bool(0.25)) return rng.bool(0.1) ? {} : undefined;
  const props: Record<string, unknown> = {};
  for (const name of ALLOWED_PROPERTIES[context]) {
    if (name === "authenticationData") continue;
    if (rng.bool(density)) props[name] = propertyValue(rng, name, context);
  }
  // Authentication Data only with an Authentication Method (§3.1.2.11.10, §3.15.2.2.3).
  if (props.authenticationMethod !== undefined && rng.bool(0.6)) {
    props.authenticationData = propertyValue(rng, "authenticationData", context);
  }
  return props as Properties;
}

// ------------------------------------------------------------------ packets

function packetId(rng: Prng): number {
  return rng.bool(0.15) ? rng.pick([1, 65_535]) : rng.int(1, 65_535);
}

function qos(rng: Prng): QoS {
  return rng.pick([0, 1, 2] as const);
}

function withProps<T extends object>(
  packet: T,
  rng: Prng,
  version: ProtocolVersion,
  context: PropertyContext,
): T {
  if (version !== 5) return packet;
  const properties = randomProperties(rng, context);
  return properties === undefined ? packet : { ...packet, properties };
}

function randomWill(rng: Prng, version: ProtocolVersion): Will {
  const properties = version === 5 ? randomProperties(rng, "will") : undefined;
  const payload = properties?.payloadFormatIndicator === true
    ? textPayload(rng)
    : randomPayload(rng, rng.bool(0.2) ? 0 : rng.int(1, 300));
  const will: Will = { topic: randomTopicName(rng), payload, qos: qos(rng), retain: rng.bool() };
  return properties === undefined ? will : { ...will, properties };
}

function randomConnect(rng: Prng, version: ProtocolVersion): Packet {
  const clean = rng.bool();
  let clientId: string;
  if (version === 3) {
    // MQTT 3.1 §3.1: the Client Identifier is 1 to 23 characters.
    const chars = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    clientId = Array.from({ length: rng.int(1, 23) }, () => rng.pick([...chars])).join("");
  } else if (version === 4 && !clean) {
    clientId = randomString(rng, rng.int(1, 23)); // [MQTT-3.1.3-7] empty needs CleanSession = 1
  } else {
    clientId = rng.bool(0.15) ? "" : randomString(rng, rng.int(1, 40));
  }
  const keepalive = rng.bool(0.2) ? rng.pick([0, 1, 65_535]) : rng.int(0, 65_535);
  let p: Packet = { type: "connect", protocolVersion: version, clientId, clean, keepalive };
  const hasUser = rng.bool(0.6);
  if (hasUser) p = { ...p, username: randomString(rng) };
  // [MQTT-3.1.2-22] no password without a user name on 3.1/3.1.1; MQTT 5.0 allows it (§3.1.2.9).
  if ((hasUser || version === 5) && rng.bool(0.5)) {
    p = { ...p, password: rng.bytes(rng.int(0, 64)) };
  }
  if (rng.bool(0.4)) p = { ...p, will: randomWill(rng, version) };
  return withProps(p, rng, version, "connect");
}

function randomPublish(rng: Prng, version: ProtocolVersion): Packet {
  const q = qos(rng);
  let properties = version === 5 ? randomProperties(rng, "publish") : undefined;
  let topic = randomTopicName(rng);
  if (version === 5 && rng.bool(0.05)) {
    // An empty topic name is allowed with a Topic Alias (§3.3.2.3.4).
    topic = "";
    properties = { ...properties, topicAlias: u16(rng, 1) };
  }
  const payload = properties?.payloadFormatIndicator === true
    ? textPayload(rng)
    : randomPayload(rng);
  let p: Packet = {
    type: "publish",
    topic,
    payload,
    qos: q,
    retain: rng.bool(),
    dup: q > 0 && rng.bool(0.3), // [MQTT-3.3.1-2] DUP is 0 on QoS 0
  };
  if (q > 0) p = { ...p, packetId: packetId(rng) };
  return properties === undefined ? p : { ...p, properties };
}

function randomSubscription(rng: Prng, version: ProtocolVersion): Subscription {
  const topicFilter = randomTopicFilter(rng, version);
  const s: Subscription = { topicFilter, qos: qos(rng) };
  if (version !== 5 || rng.bool(0.3)) return s;
  return {
    ...s,
    // [MQTT-3.8.3-4] No Local must be 0 on a shared subscription.
    noLocal: !topicFilter.startsWith("$share/") && rng.bool(),
    retainAsPublished: rng.bool(),
    retainHandling: rng.pick([0, 1, 2] as const),
  };
}

function count(rng: Prng): number {
  return rng.bool(0.05) ? rng.int(6, 40) : rng.int(1, 5);
}

/**
 * A random valid packet of `type` (random type when omitted) for protocol
 * `version`. CONNECT carries `version` itself.
 */
export function randomPacket(
  rng: Prng,
  version: ProtocolVersion,
  type: PacketTypeName = rng.pick(PACKET_TYPES[version]),
): Packet {
  const codes = REASON_CODES_V5[type] ?? [];
  switch (type) {
    case "connect":
      return randomConnect(rng, version);
    case "connack": {
      const reasonCode = version === 5 ? rng.pick(codes) : rng.int(0, 5);
      // [MQTT-3.2.2-4] [MQTT-3.2.2-6] Session Present is 0 with a non-zero code; 3.1 has no such flag.
      const sessionPresent = version !== 3 && reasonCode === 0 && rng.bool();
      return withProps({ type, sessionPresent, reasonCode }, rng, version, type);
    }
    case "publish":
      return randomPublish(rng, version);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp": {
      const p = { type, packetId: packetId(rng) };
      if (version !== 5 || rng.bool(0.2)) return p;
      return withProps({ ...p, reasonCode: rng.pick(codes) }, rng, version, type);
    }
    case "subscribe": {
      const subscriptions = Array.from(
        { length: count(rng) },
        () => randomSubscription(rng, version),
      );
      return withProps({ type, packetId: packetId(rng), subscriptions }, rng, version, type);
    }
    case "suback": {
      // MQTT 3.1 grants QoS 0..2 only; 3.1.1 adds 0x80 (§3.9.3).
      const allowed = version === 5 ? codes : version === 4 ? [0, 1, 2, 0x80] : [0, 1, 2];
      const reasonCodes = Array.from({ length: count(rng) }, () => rng.pick(allowed));
      return withProps({ type, packetId: packetId(rng), reasonCodes }, rng, version, type);
    }
    case "unsubscribe": {
      const topicFilters = Array.from(
        { length: count(rng) },
        () => randomTopicFilter(rng, version),
      );
      return withProps({ type, packetId: packetId(rng), topicFilters }, rng, version, type);
    }
    case "unsuback": {
      if (version !== 5) return { type, packetId: packetId(rng) };
      const reasonCodes = Array.from({ length: count(rng) }, () => rng.pick(codes));
      return withProps({ type, packetId: packetId(rng), reasonCodes }, rng, version, type);
    }
    case "pingreq":
    case "pingresp":
      return { type };
    case "disconnect":
      if (version !== 5 || rng.bool(0.15)) return { type };
      return withProps({ type, reasonCode: rng.pick(codes) }, rng, version, type);
    case "auth": {
      // §3.15.2.1: Reason Code and properties may be omitted when the code is 0 (Success).
      if (rng.bool(0.1)) return rng.bool() ? { type } : { type, reasonCode: 0 };
      const properties: Properties = {
        ...randomProperties(rng, "auth", 0.5),
        authenticationMethod: randomString(rng),
      };
      return { type, reasonCode: rng.pick(codes), properties };
    }
  }
}

/** `n` random packets for `version`, cycling through every packet type. */
export function randomPackets(rng: Prng, version: ProtocolVersion, n: number): Packet[] {
  const types = PACKET_TYPES[version];
  return Array.from({ length: n }, (_, i) => randomPacket(rng, version, types[i % types.length]));
}

// ------------------------------------------------------------- edge packets

/**
 * Hand-picked valid packets at the edges: packet ids 1 and 65535, remaining
 * lengths at every variable-byte-integer boundary (127/128, 16383/16384,
 * 2097151/2097152), empty payloads and strings, and a leading U+FEFF.
 */
export function edgePackets(version: ProtocolVersion): Packet[] {
  const out: Packet[] = [];
  // PUBLISH QoS 0 remaining length = 2 + topic + payload (+ 1 property length byte on 5.0).
  const overhead = 2 + 1 + (version === 5 ? 1 : 0);
  for (const rl of [127, 128, 16_383, 16_384, 2_097_151, 2_097_152]) {
    const payload = new Uint8Array(rl - overhead).map((_, i) => i * 7);
    out.push({ type: "publish", topic: "t", payload, qos: 0, retain: false, dup: false });
  }
  for (const id of [1, 65_535]) {
    out.push({
      type: "publish",
      topic: "\uFEFFbom/ü/€/😀",
      payload: new Uint8Array(0),
      qos: 2,
      retain: true,
      dup: true,
      packetId: id,
    });
    out.push({ type: "puback", packetId: id }, { type: "pubrel", packetId: id });
    out.push({ type: "subscribe", packetId: id, subscriptions: [{ topicFilter: "#", qos: 2 }] });
    out.push({ type: "unsubscribe", packetId: id, topicFilters: ["+", "/", "a/+/#"] });
  }
  out.push({
    type: "connect",
    protocolVersion: version,
    clientId: version === 3 ? "c" : "",
    clean: true,
    keepalive: 65_535,
  });
  return out;
}
