/**
 * Comparing packets: a canonical form per protocol level (what the wire can
 * carry, defaults dropped), equality on it, and short descriptions for
 * failure messages. Re-exported by `_gen_packets.ts`.
 *
 * @module
 */

import { isDeepStrictEqual } from "node:util";
import type { Packet, Properties, ProtocolVersion } from "../core/codec/types.ts";

function bytesOf(b: Uint8Array): Uint8Array {
  return new Uint8Array(b); // plain Uint8Array copy (Buffer, views and subarrays compare equal)
}

function normalizeProperties(props: Properties | undefined): Record<string, unknown> | undefined {
  if (props === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined) continue;
    if (Array.isArray(value) && value.length === 0) continue;
    out[key] = value instanceof Uint8Array ? bytesOf(value) : value;
  }
  return Object.keys(out).length === 0 ? undefined : out;
}

function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (value !== undefined) target[key] = value;
}

/**
 * A plain, canonical form of `packet` as it travels on protocol `version`:
 * fields the level does not carry are dropped, defaults that the wire cannot
 * tell apart from absence (reason code 0, empty properties, v5 subscription
 * options false/0) are dropped, byte arrays become plain copies.
 */
export function normalizePacket(packet: Packet, version: ProtocolVersion): Record<string, unknown> {
  const v5 = (packet.type === "connect" ? packet.protocolVersion : version) === 5;
  const out: Record<string, unknown> = { type: packet.type };
  if (v5 && "properties" in packet) put(out, "properties", normalizeProperties(packet.properties));
  const code = (c: number | undefined) => (v5 && c !== undefined && c !== 0 ? c : undefined);
  switch (packet.type) {
    case "connect": {
      out.protocolVersion = packet.protocolVersion;
      out.clientId = packet.clientId;
      out.clean = packet.clean;
      out.keepalive = packet.keepalive;
      put(out, "username", packet.username);
      if (packet.password !== undefined) out.password = bytesOf(packet.password);
      if (packet.will !== undefined) {
        const w = packet.will;
        const will: Record<string, unknown> = {
          topic: w.topic,
          payload: bytesOf(w.payload),
          qos: w.qos,
          retain: w.retain,
        };
        if (v5) put(will, "properties", normalizeProperties(w.properties));
        out.will = will;
      }
      break;
    }
    case "connack":
      out.sessionPresent = packet.sessionPresent;
      out.reasonCode = packet.reasonCode;
      break;
    case "publish":
      out.topic = packet.topic;
      out.payload = bytesOf(packet.payload);
      out.qos = packet.qos;
      out.retain = packet.retain;
      out.dup = packet.dup;
      if (packet.qos > 0) out.packetId = packet.packetId;
      break;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      out.packetId = packet.packetId;
      put(out, "reasonCode", code(packet.reasonCode));
      break;
    case "subscribe":
      out.packetId = packet.packetId;
      out.subscriptions = packet.subscriptions.map((s) => {
        const sub: Record<string, unknown> = { topicFilter: s.topicFilter, qos: s.qos };
        if (v5 && s.noLocal === true) sub.noLocal = true;
        if (v5 && s.retainAsPublished === true) sub.retainAsPublished = true;
        if (v5 && s.retainHandling !== undefined && s.retainHandling !== 0) {
          sub.retainHandling = s.retainHandling;
        }
        return sub;
      });
      break;
    case "suback":
      out.packetId = packet.packetId;
      out.reasonCodes = [...packet.reasonCodes];
      break;
    case "unsubscribe":
      out.packetId = packet.packetId;
      out.topicFilters = [...packet.topicFilters];
      break;
    case "unsuback":
      out.packetId = packet.packetId;
      if (v5) out.reasonCodes = [...(packet.reasonCodes ?? [])];
      break;
    case "pingreq":
    case "pingresp":
      break;
    case "disconnect":
    case "auth":
      put(out, "reasonCode", code(packet.reasonCode));
      break;
  }
  return out;
}

/** `true` when `a` and `b` are the same packet on protocol `version` (see {@linkcode normalizePacket}). */
export function packetsEqual(a: Packet, b: Packet, version: ProtocolVersion): boolean {
  return isDeepStrictEqual(normalizePacket(a, version), normalizePacket(b, version));
}

/** Lower-case hex of `bytes`, abbreviated past `max` bytes. */
export function toHex(bytes: Uint8Array, max = 256): string {
  const head = Array.from(bytes.subarray(0, max), (b) => b.toString(16).padStart(2, "0")).join(" ");
  return bytes.length > max ? `${head} … (${bytes.length} bytes)` : head;
}

/** A short JSON description of a packet for failure messages (byte arrays as hex). */
export function describePacket(packet: unknown): string {
  const json = JSON.stringify(packet, (_k, v) => v instanceof Uint8Array ? `<${toHex(v, 32)}>` : v);
  return json.length > 2000 ? json.slice(0, 2000) + "…" : json;
}
