/**
 * Conversion between our packet objects and npm:mqtt-packet's object shape,
 * both directions, plus a one-packet parse/generate wrapper around it.
 *
 * Shape facts (from mqtt-packet 9.0.2): packets carry `cmd` instead of
 * `type` and `messageId` instead of `packetId`; SUBACK/UNSUBACK codes are
 * `granted`; a 3.1/3.1.1 CONNACK code is `returnCode`, a 5.0 one
 * `reasonCode`; subscriptions are `{ topic, qos, nl, rap, rh }`; CONNECT
 * has `protocolId` ("MQIsdp" on 3.1); binary fields are `Buffer`s; the
 * subscription identifier property is `subscriptionIdentifier` (a number, or
 * an array when repeated); user properties are an object whose values are a
 * string or, for a repeated name, an array of strings.
 *
 * @module
 */

import { Buffer } from "node:buffer";
import mqttPacket from "mqtt-packet";
import type {
  AuthPacket,
  DisconnectPacket,
  Packet,
  Properties,
  ProtocolVersion,
  QoS,
  Subscription,
  UserProperty,
} from "../core/codec/types.ts";

/** An mqtt-packet packet object, loosely typed (its typings omit fields it uses). */
export type MqttPacketObject = Record<string, unknown>;

type Obj = Record<string, unknown>;

const buf = (b: Uint8Array): Buffer => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const u8 = (b: unknown): Uint8Array => new Uint8Array(b as Uint8Array);

/**
 * User properties as mqtt-packet holds them: one key per name, repeated names
 * grouped into arrays. Interleaving of different names cannot be represented
 * (and JS orders integer-like keys first), which is why comparisons use
 * {@linkcode viaMqttPacketShape}.
 */
function userPropertiesToMqtt(pairs: readonly UserProperty[]): Obj {
  const out: Record<string, string | string[]> = Object.create(null);
  for (const [name, value] of pairs) {
    const cur = out[name];
    if (cur === undefined) out[name] = value;
    else if (Array.isArray(cur)) cur.push(value);
    else out[name] = [cur, value];
  }
  return out;
}

function userPropertiesFromMqtt(obj: Obj): UserProperty[] {
  const out: UserProperty[] = [];
  for (const name of Object.keys(obj)) {
    const v = obj[name];
    for (const value of Array.isArray(v) ? v : [v]) out.push([name, String(value)]);
  }
  return out;
}

function propertiesToMqtt(props: Properties): Obj {
  const out: Obj = {};
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (key === "userProperties") {
      const pairs = value as UserProperty[];
      // mqtt-packet refuses an empty user-property object; no pairs means no property.
      if (pairs.length > 0) out.userProperties = userPropertiesToMqtt(pairs);
    } else if (key === "subscriptionIdentifiers") {
      const ids = value as number[];
      if (ids.length === 1) out.subscriptionIdentifier = ids[0];
      else if (ids.length > 1) out.subscriptionIdentifier = [...ids];
    } else if (value instanceof Uint8Array) {
      out[key] = buf(value);
    } else {
      out[key] = value;
    }
  }
  return out;
}

function propertiesFromMqtt(obj: Obj): Properties {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (value === undefined) continue;
    if (key === "userProperties") out.userProperties = userPropertiesFromMqtt(value as Obj);
    else if (key === "subscriptionIdentifier") {
      out.subscriptionIdentifiers = Array.isArray(value) ? [...value] : [value];
    } else if (value instanceof Uint8Array) out[key] = u8(value);
    else out[key] = value;
  }
  return out as Properties;
}

function withProperties(target: Obj, props: Properties | undefined): Obj {
  if (props !== undefined) target.properties = propertiesToMqtt(props);
  return target;
}

/** Our packet → mqtt-packet's object, for `mqttPacket.generate(obj, { protocolVersion })`. */
export function toMqttPacket(p: Packet, version: ProtocolVersion): MqttPacketObject {
  const v5 = version === 5;
  switch (p.type) {
    case "connect": {
      const out: Obj = {
        cmd: "connect",
        protocolId: p.protocolVersion === 3 ? "MQIsdp" : "MQTT",
        protocolVersion: p.protocolVersion,
        clientId: p.clientId,
        clean: p.clean,
        keepalive: p.keepalive,
      };
      if (p.username !== undefined) out.username = p.username;
      if (p.password !== undefined) out.password = buf(p.password);
      if (p.will !== undefined) {
        const w = p.will;
        out.will = withProperties(
          { topic: w.topic, payload: buf(w.payload), qos: w.qos, retain: w.retain },
          w.properties,
        );
      }
      return withProperties(out, p.properties);
    }
    case "connack": {
      const out: Obj = { cmd: "connack", sessionPresent: p.sessionPresent };
      out[v5 ? "reasonCode" : "returnCode"] = p.reasonCode;
      return withProperties(out, p.properties);
    }
    case "publish": {
      const out: Obj = {
        cmd: "publish",
        topic: p.topic,
        payload: buf(p.payload),
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
      };
      if (p.packetId !== undefined) out.messageId = p.packetId;
      return withProperties(out, p.properties);
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return withProperties(
        { cmd: p.type, messageId: p.packetId, reasonCode: p.reasonCode ?? 0 },
        p.properties,
      );
    case "subscribe":
      return withProperties({
        cmd: "subscribe",
        messageId: p.packetId,
        subscriptions: p.subscriptions.map((s) => ({
          topic: s.topicFilter,
          qos: s.qos,
          nl: s.noLocal ?? false,
          rap: s.retainAsPublished ?? false,
          rh: s.retainHandling ?? 0,
        })),
      }, p.properties);
    case "suback":
      return withProperties(
        { cmd: "suback", messageId: p.packetId, granted: [...p.reasonCodes] },
        p.properties,
      );
    case "unsubscribe":
      return withProperties(
        { cmd: "unsubscribe", messageId: p.packetId, unsubscriptions: [...p.topicFilters] },
        p.properties,
      );
    case "unsuback": {
      const out: Obj = { cmd: "unsuback", messageId: p.packetId };
      if (v5) out.granted = [...(p.reasonCodes ?? [])];
      return withProperties(out, p.properties);
    }
    case "pingreq":
    case "pingresp":
      return { cmd: p.type };
    case "disconnect":
    case "auth":
      return withProperties({ cmd: p.type, reasonCode: p.reasonCode ?? 0 }, p.properties);
  }
}

function setProps(target: { properties?: Properties }, src: Obj): void {
  if (src.properties !== undefined) target.properties = propertiesFromMqtt(src.properties as Obj);
}

/** mqtt-packet's parsed object → our packet. */
export function fromMqttPacket(m: MqttPacketObject, version: ProtocolVersion): Packet {
  const id = m.messageId as number;
  switch (m.cmd) {
    case "connect": {
      const p: Packet = {
        type: "connect",
        protocolVersion: m.protocolVersion as ProtocolVersion,
        clientId: m.clientId as string,
        clean: m.clean as boolean,
        keepalive: m.keepalive as number,
      };
      if (m.username !== undefined) p.username = m.username as string;
      if (m.password !== undefined) p.password = u8(m.password);
      if (m.will !== undefined) {
        const w = m.will as Obj;
        p.will = {
          topic: w.topic as string,
          payload: u8(w.payload),
          qos: w.qos as QoS,
          retain: !!w.retain,
        };
        setProps(p.will, w);
      }
      setProps(p, m);
      return p;
    }
    case "connack": {
      const code = (version === 5 ? m.reasonCode : m.returnCode) as number;
      const p: Packet = { type: "connack", sessionPresent: !!m.sessionPresent, reasonCode: code };
      setProps(p, m);
      return p;
    }
    case "publish": {
      const p: Packet = {
        type: "publish",
        topic: m.topic as string,
        payload: u8(m.payload),
        qos: m.qos as QoS,
        retain: !!m.retain,
        dup: !!m.dup,
      };
      if ((m.qos as number) > 0) p.packetId = id;
      setProps(p, m);
      return p;
    }
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp": {
      const p: Packet = { type: m.cmd, packetId: id };
      if (m.reasonCode !== undefined) p.reasonCode = m.reasonCode as number;
      setProps(p, m);
      return p;
    }
    case "subscribe": {
      const subscriptions = (m.subscriptions as Obj[]).map((s) => {
        const sub: Subscription = { topicFilter: s.topic as string, qos: s.qos as QoS };
        if (s.nl !== undefined) sub.noLocal = !!s.nl;
        if (s.rap !== undefined) sub.retainAsPublished = !!s.rap;
        if (s.rh !== undefined) sub.retainHandling = s.rh as 0 | 1 | 2;
        return sub;
      });
      const p: Packet = { type: "subscribe", packetId: id, subscriptions };
      setProps(p, m);
      return p;
    }
    case "suback": {
      const p: Packet = { type: "suback", packetId: id, reasonCodes: [...(m.granted as number[])] };
      setProps(p, m);
      return p;
    }
    case "unsubscribe": {
      const topicFilters = [...(m.unsubscriptions as string[])];
      const p: Packet = { type: "unsubscribe", packetId: id, topicFilters };
      setProps(p, m);
      return p;
    }
    case "unsuback": {
      const p: Packet = { type: "unsuback", packetId: id };
      if (m.granted !== undefined) p.reasonCodes = [...(m.granted as number[])];
      setProps(p, m);
      return p;
    }
    case "pingreq":
    case "pingresp":
      return { type: m.cmd };
    case "disconnect":
    case "auth": {
      const p: AuthPacket | DisconnectPacket = { type: m.cmd };
      if (m.reasonCode !== undefined) p.reasonCode = m.reasonCode as number;
      setProps(p, m);
      return p;
    }
  }
  throw new TypeError(`Cannot map mqtt-packet object: unknown cmd ${String(m.cmd)}`);
}

/**
 * `p` after a trip through mqtt-packet's object shape: the most faithful form
 * mqtt-packet can carry. Differs from `p` only in user properties, which are
 * grouped by name, integer-like names first (a departure from
 * [MQTT-3.3.2-18], which requires their order to be kept).
 */
export function viaMqttPacketShape(p: Packet, version: ProtocolVersion): Packet {
  return fromMqttPacket(toMqttPacket(p, version), version);
}

/** mqtt-packet's encoding of `p` on protocol `version`. @throws {Error} when mqtt-packet refuses it */
export function mqttPacketGenerate(p: Packet, version: ProtocolVersion): Uint8Array {
  const obj = toMqttPacket(p, version);
  const b = mqttPacket.generate(obj as unknown as mqttPacket.Packet, { protocolVersion: version });
  return new Uint8Array(b); // a copy: Buffer.allocUnsafe may hand out views of a shared pool
}

/**
 * Parses `bytes` with a fresh mqtt-packet parser for protocol `version` and
 * returns every packet it emitted, or the first error it reported.
 */
export function mqttPacketParse(
  bytes: Uint8Array,
  version: ProtocolVersion,
): { packets: MqttPacketObject[]; error: Error | undefined } {
  const parser = mqttPacket.parser({ protocolVersion: version });
  const packets: MqttPacketObject[] = [];
  let error: Error | undefined;
  parser.on("packet", (pk) => packets.push(pk as unknown as MqttPacketObject));
  parser.on("error", (e: Error) => error ??= e);
  parser.parse(buf(bytes));
  return { packets, error };
}

function losesUserProperties(props: Properties | undefined): boolean {
  const seen = new Map<string, string>();
  for (const [name, value] of props?.userProperties ?? []) {
    const first = seen.get(name);
    if (first === "") return true;
    if (first === undefined) seen.set(name, value);
  }
  return false;
}

/**
 * `true` when mqtt-packet's parser would lose user properties of `p`: it keeps
 * a repeated name's values only from the first non-empty one on, because it
 * tests the value held so far for truthiness and so overwrites a leading "".
 * A departure from [MQTT-3.3.2-17] (all User Properties unaltered) and
 * MQTT 5.0 §2.2.2.2 (a name may repeat).
 */
export function mqttPacketLosesUserProperties(p: Packet): boolean {
  if (losesUserProperties((p as { properties?: Properties }).properties)) return true;
  return p.type === "connect" && losesUserProperties(p.will?.properties);
}

function stripUser(props: Properties | undefined): Properties | undefined {
  if (props === undefined) return undefined;
  const { userProperties: _drop, ...rest } = props;
  return rest;
}

/** `p` without user properties (its own and its will's). */
export function withoutUserProperties(p: Packet): Packet {
  if (p.type === "pingreq" || p.type === "pingresp") return p;
  const out = { ...p } as Packet & { properties?: Properties };
  const props = stripUser(out.properties);
  if (props === undefined) delete out.properties;
  else out.properties = props;
  if (out.type === "connect" && out.will !== undefined) {
    const will = { ...out.will };
    const wp = stripUser(will.properties);
    if (wp === undefined) delete will.properties;
    else will.properties = wp;
    out.will = will;
  }
  return out;
}
