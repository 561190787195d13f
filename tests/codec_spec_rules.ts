/**
 * The specification's rules for packet objects, written independently of the
 * codec: which types, properties and reason codes each packet and protocol
 * level allows, and {@linkcode packetViolation}, an oracle telling whether a
 * packet object is one the specifications allow on the wire. The fuzz test
 * uses it to catch a decoder that accepts what it must refuse.
 *
 * @module
 */

import type {
  Packet,
  PacketTypeName,
  Properties,
  ProtocolVersion,
  Subscription,
} from "../core/codec/types.ts";

/** Packet types of MQTT 3.1 and 3.1.1. */
const TYPES_V3: readonly PacketTypeName[] = [
  "connect",
  "connack",
  "publish",
  "puback",
  "pubrec",
  "pubrel",
  "pubcomp",
  "subscribe",
  "suback",
  "unsubscribe",
  "unsuback",
  "pingreq",
  "pingresp",
  "disconnect",
];

/** Packet types valid on each protocol level (AUTH is MQTT 5 only). */
export const PACKET_TYPES: Readonly<Record<ProtocolVersion, readonly PacketTypeName[]>> = {
  3: TYPES_V3,
  4: TYPES_V3,
  5: [...TYPES_V3, "auth"],
};

/** A property's key in {@linkcode Properties}. */
export type PropertyName = keyof Properties;
/** Where properties appear: a packet type, or a CONNECT's will. */
export type PropertyContext = PacketTypeName | "will";

const ACK_PROPS: readonly PropertyName[] = ["reasonString", "userProperties"];

/** MQTT 5 properties each packet may carry (MQTT 5.0 Table 2-4 and §2.2.2.2). */
export const ALLOWED_PROPERTIES: Readonly<Record<PropertyContext, readonly PropertyName[]>> = {
  connect: [
    "sessionExpiryInterval",
    "receiveMaximum",
    "maximumPacketSize",
    "topicAliasMaximum",
    "requestResponseInformation",
    "requestProblemInformation",
    "userProperties",
    "authenticationMethod",
    "authenticationData",
  ],
  will: [
    "willDelayInterval",
    "payloadFormatIndicator",
    "messageExpiryInterval",
    "contentType",
    "responseTopic",
    "correlationData",
    "userProperties",
  ],
  connack: [
    "sessionExpiryInterval",
    "receiveMaximum",
    "maximumQoS",
    "retainAvailable",
    "maximumPacketSize",
    "assignedClientIdentifier",
    "topicAliasMaximum",
    "reasonString",
    "userProperties",
    "wildcardSubscriptionAvailable",
    "subscriptionIdentifiersAvailable",
    "sharedSubscriptionAvailable",
    "serverKeepAlive",
    "responseInformation",
    "serverReference",
    "authenticationMethod",
    "authenticationData",
  ],
  publish: [
    "payloadFormatIndicator",
    "messageExpiryInterval",
    "topicAlias",
    "responseTopic",
    "correlationData",
    "userProperties",
    "subscriptionIdentifiers",
    "contentType",
  ],
  puback: ACK_PROPS,
  pubrec: ACK_PROPS,
  pubrel: ACK_PROPS,
  pubcomp: ACK_PROPS,
  subscribe: ["subscriptionIdentifiers", "userProperties"],
  suback: ACK_PROPS,
  unsubscribe: ["userProperties"],
  unsuback: ACK_PROPS,
  pingreq: [],
  pingresp: [],
  disconnect: ["sessionExpiryInterval", "reasonString", "userProperties", "serverReference"],
  auth: ["authenticationMethod", "authenticationData", "reasonString", "userProperties"],
};

const PUBACK_CODES = [0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99];
const PUBREL_CODES = [0x00, 0x92];

/** MQTT 5 reason codes each packet may carry (MQTT 5.0 §3.x.2.1 tables). */
export const REASON_CODES_V5: Readonly<Record<string, readonly number[]>> = {
  // deno-fmt-ignore
  connack: [0x00, 0x80, 0x81, 0x82, 0x83, 0x84, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8a, 0x8c, 0x90,
    0x95, 0x97, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9f],
  puback: PUBACK_CODES,
  pubrec: PUBACK_CODES,
  pubrel: PUBREL_CODES,
  pubcomp: PUBREL_CODES,
  suback: [0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2],
  unsuback: [0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91],
  // deno-fmt-ignore
  disconnect: [0x00, 0x04, 0x80, 0x81, 0x82, 0x83, 0x87, 0x89, 0x8b, 0x8d, 0x8e, 0x8f, 0x90,
    0x93, 0x94, 0x95, 0x96, 0x97, 0x98, 0x99, 0x9a, 0x9b, 0x9c, 0x9d, 0x9e, 0x9f, 0xa0, 0xa1, 0xa2],
  auth: [0x00, 0x18, 0x19],
};

// ------------------------------------------------------------------- oracle

/** UTF-8 byte length of a well-formed string without U+0000, else a reason it is not one. */
function stringFault(s: unknown): string | number {
  if (typeof s !== "string") return "not a string";
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 0) return "contains U+0000 [MQTT-1.5.4-2]";
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (!(d >= 0xdc00 && d <= 0xdfff)) return "lone surrogate [MQTT-1.5.4-1]";
      i++;
      n += 4;
    } else if (c >= 0xdc00 && c <= 0xdfff) return "lone surrogate [MQTT-1.5.4-1]";
    else n += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
  }
  return n > 65_535 ? "longer than 65535 bytes [MQTT-1.5.4]" : n;
}

function checkString(what: string, s: unknown): string | undefined {
  const f = stringFault(s);
  return typeof f === "string" ? `${what}: ${f}` : undefined;
}

function checkTopicName(what: string, s: string, emptyAllowed: boolean): string | undefined {
  const bad = checkString(what, s);
  if (bad !== undefined) return bad;
  if (s === "" && !emptyAllowed) return `${what}: empty topic name [MQTT-4.7.3-1]`;
  if (/[+#]/.test(s)) return `${what}: wildcard in a topic name [MQTT-3.3.2-2] [MQTT-4.7.1-1]`;
  return undefined;
}

function checkTopicFilter(what: string, s: string, version: ProtocolVersion): string | undefined {
  const bad = checkString(what, s);
  if (bad !== undefined) return bad;
  if (s === "") return `${what}: empty topic filter [MQTT-4.7.3-1]`;
  let filter = s;
  if (version === 5 && s.startsWith("$share/")) {
    // [MQTT-4.8.2-1] [MQTT-4.8.2-2]: "$share/" ShareName "/" TopicFilter.
    const rest = s.slice(7);
    const slash = rest.indexOf("/");
    const name = slash < 0 ? rest : rest.slice(0, slash);
    if (slash <= 0 || /[+#]/.test(name)) {
      return `${what}: bad share name [MQTT-4.8.2-1] [MQTT-4.8.2-2]`;
    }
    filter = rest.slice(slash + 1);
    if (filter === "") return `${what}: shared subscription without a filter [MQTT-4.8.2-2]`;
  }
  const levels = filter.split("/");
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes("#") && (level !== "#" || i !== levels.length - 1)) {
      return `${what}: "#" not alone in the last level [MQTT-4.7.1-2]`;
    }
    if (level.includes("+") && level !== "+") {
      return `${what}: "+" not a whole level [MQTT-4.7.1-3]`;
    }
  }
  return undefined;
}

const U32 = (v: unknown) =>
  Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff_ffff;
const U16 = (v: unknown) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffff;

function checkProperties(
  what: string,
  props: Properties | undefined,
  context: PropertyContext,
): string | undefined {
  if (props === undefined) return undefined;
  const allowed = ALLOWED_PROPERTIES[context];
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    const name = key as PropertyName;
    const at = `${what}.${key}`;
    if (!allowed.includes(name)) return `${at}: property not allowed on ${context} (§2.2.2.2)`;
    let ok = true;
    switch (name) {
      case "payloadFormatIndicator":
      case "requestProblemInformation":
      case "requestResponseInformation":
      case "retainAvailable":
      case "wildcardSubscriptionAvailable":
      case "subscriptionIdentifiersAvailable":
      case "sharedSubscriptionAvailable":
        ok = typeof value === "boolean";
        break;
      case "messageExpiryInterval":
      case "sessionExpiryInterval":
      case "willDelayInterval":
        ok = U32(value);
        break;
      case "maximumPacketSize": // 0 is a Protocol Error (§3.1.2.11.4, §3.2.2.3.6)
        ok = U32(value) && value !== 0;
        break;
      case "serverKeepAlive":
      case "topicAliasMaximum":
        ok = U16(value);
        break;
      case "receiveMaximum": // §3.1.2.11.3, §3.2.2.3.3
      case "topicAlias": // §3.3.2.3.4
        ok = U16(value) && value !== 0;
        break;
      case "maximumQoS": // §3.2.2.3.4
        ok = value === 0 || value === 1;
        break;
      case "correlationData":
      case "authenticationData":
        ok = value instanceof Uint8Array && value.length <= 65_535;
        break;
      case "responseTopic": {
        const bad = checkTopicName(at, value as string, false); // [MQTT-3.3.2-14]
        if (bad !== undefined) return bad;
        break;
      }
      case "subscriptionIdentifiers": {
        const ids = value as number[];
        // 1..268,435,455 (§3.3.2.3.8); one only on SUBSCRIBE (§3.8.2.1.2).
        ok = Array.isArray(ids) &&
          ids.every((id) => Number.isInteger(id) && id >= 1 && id <= 268_435_455) &&
          (context !== "subscribe" || ids.length === 1);
        break;
      }
      case "userProperties":
        for (const pair of value as [string, string][]) {
          const bad = checkString(`${at} name`, pair[0]) ?? checkString(`${at} value`, pair[1]);
          if (bad !== undefined) return bad;
        }
        break;
      default: {
        const bad = checkString(at, value);
        if (bad !== undefined) return bad;
      }
    }
    if (!ok) return `${at}: value ${String(value)} not allowed`;
  }
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    return `${what}: Authentication Data without Authentication Method (§3.1.2.11.10)`;
  }
  return undefined;
}

function checkPacketId(id: unknown): string | undefined {
  return Number.isInteger(id) && (id as number) >= 1 && (id as number) <= 0xffff
    ? undefined
    : `packetId ${String(id)} not in 1..65535 [MQTT-2.2.1-3]`;
}

function checkCode(type: PacketTypeName, code: number | undefined, version: ProtocolVersion) {
  if (version !== 5 || code === undefined) return undefined;
  return REASON_CODES_V5[type]!.includes(code)
    ? undefined
    : `reason code 0x${code.toString(16)} not allowed on ${type}`;
}

function checkSubscription(s: Subscription, version: ProtocolVersion): string | undefined {
  const bad = checkTopicFilter("topicFilter", s.topicFilter, version);
  if (bad !== undefined) return bad;
  if (![0, 1, 2].includes(s.qos)) return `subscription QoS ${s.qos} [MQTT-3.8.3-2]`;
  if (version !== 5) return undefined;
  if (s.retainHandling !== undefined && ![0, 1, 2].includes(s.retainHandling)) {
    return `retainHandling ${s.retainHandling} (§3.8.3.1)`;
  }
  if (s.noLocal === true && s.topicFilter.startsWith("$share/")) {
    return "No Local on a shared subscription [MQTT-3.8.3-4]";
  }
  return undefined;
}

/**
 * Why `packet` cannot travel on protocol `version` according to the
 * specifications, or `undefined` when it can. Rules a decoder cannot see
 * (session state, direction, server policy) are not checked.
 */
export function packetViolation(packet: Packet, version: ProtocolVersion): string | undefined {
  const v5 = version === 5;
  const props = (p: Properties | undefined, ctx: PropertyContext) =>
    v5 ? checkProperties("properties", p, ctx) : undefined;
  switch (packet.type) {
    case "connect": {
      const p = packet;
      const cv = p.protocolVersion;
      if (![3, 4, 5].includes(cv)) return `protocolVersion ${cv}`;
      if (!U16(p.keepalive)) return `keepalive ${p.keepalive}`;
      if (cv !== 5 && p.password !== undefined && p.username === undefined) {
        return "password without username [MQTT-3.1.2-22]";
      }
      const bad = checkString("clientId", p.clientId) ??
        (p.username === undefined ? undefined : checkString("username", p.username)) ??
        (p.password !== undefined && p.password.length > 65_535 ? "password too long" : undefined);
      if (bad !== undefined) return bad;
      if (p.will !== undefined) {
        const w = p.will;
        const wb = checkTopicName("will.topic", w.topic, false) ??
          (![0, 1, 2].includes(w.qos) ? `will QoS ${w.qos} [MQTT-3.1.2-12]` : undefined) ??
          (w.payload.length > 65_535 ? "will payload too long" : undefined) ??
          (cv === 5 ? checkProperties("will.properties", w.properties, "will") : undefined);
        if (wb !== undefined) return wb;
      }
      return cv === 5 ? checkProperties("properties", p.properties, "connect") : undefined;
    }
    case "connack": {
      const c = packet.reasonCode;
      if (v5 ? !REASON_CODES_V5.connack!.includes(c) : !(Number.isInteger(c) && c >= 0 && c <= 5)) {
        return `CONNACK code ${c} not allowed`;
      }
      if (packet.sessionPresent && c !== 0) {
        return "sessionPresent with a refusal [MQTT-3.2.2-4] [MQTT-3.2.2-6]";
      }
      return props(packet.properties, "connack");
    }
    case "publish": {
      const p = packet;
      if (![0, 1, 2].includes(p.qos)) return `QoS ${p.qos} [MQTT-3.3.1-4]`;
      if (p.qos === 0 && p.dup) return "DUP on QoS 0 [MQTT-3.3.1-2]";
      if (p.qos > 0) {
        const bad = checkPacketId(p.packetId);
        if (bad !== undefined) return bad;
      } else if (p.packetId !== undefined) return "packetId on QoS 0 [MQTT-2.2.1-2]";
      if (!(p.payload instanceof Uint8Array)) return "payload is not bytes";
      const alias = v5 && p.properties?.topicAlias !== undefined;
      return checkTopicName("topic", p.topic, alias) ?? props(p.properties, "publish");
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return checkPacketId(packet.packetId) ?? checkCode(packet.type, packet.reasonCode, version) ??
        props(packet.properties, packet.type);
    case "subscribe": {
      if (packet.subscriptions.length === 0) {
        return "SUBSCRIBE without subscriptions [MQTT-3.8.3-3]";
      }
      for (const s of packet.subscriptions) {
        const bad = checkSubscription(s, version);
        if (bad !== undefined) return bad;
      }
      return checkPacketId(packet.packetId) ?? props(packet.properties, "subscribe");
    }
    case "suback": {
      if (packet.reasonCodes.length === 0) return "SUBACK without reason codes (§3.9.3)";
      for (const c of packet.reasonCodes) {
        const ok = v5 ? REASON_CODES_V5.suback!.includes(c) : [0, 1, 2, 0x80].includes(c);
        if (!ok) return `SUBACK code 0x${c.toString(16)} not allowed [MQTT-3.9.3-2]`;
      }
      return checkPacketId(packet.packetId) ?? props(packet.properties, "suback");
    }
    case "unsubscribe": {
      if (packet.topicFilters.length === 0) return "UNSUBSCRIBE without filters [MQTT-3.10.3-2]";
      for (const f of packet.topicFilters) {
        const bad = checkTopicFilter("topicFilters[]", f, version);
        if (bad !== undefined) return bad;
      }
      return checkPacketId(packet.packetId) ?? props(packet.properties, "unsubscribe");
    }
    case "unsuback": {
      if (v5) {
        const codes = packet.reasonCodes ?? [];
        if (codes.length === 0) return "UNSUBACK without reason codes (§3.11.3)";
        for (const c of codes) {
          const bad = checkCode("unsuback", c, version);
          if (bad !== undefined) return bad;
        }
      }
      return checkPacketId(packet.packetId) ?? props(packet.properties, "unsuback");
    }
    case "pingreq":
    case "pingresp":
      return undefined;
    case "disconnect":
      return checkCode("disconnect", packet.reasonCode, version) ??
        props(packet.properties, "disconnect");
    case "auth":
      if (!v5) return "AUTH below MQTT 5 (§3.15)";
      return checkCode("auth", packet.reasonCode, version) ?? props(packet.properties, "auth");
  }
}
