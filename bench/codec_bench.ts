/**
 * MQTT codec: the wasm engine vs the TS engine vs npm:mqtt-packet, with
 * `Uint8Array.set` of the same bytes as the physical floor. Values vary per
 * iteration (16 packets in rotation).
 *
 * ```sh
 * deno bench --allow-read bench/codec_bench.ts
 * ```
 *
 * @module
 */

import { Buffer } from "node:buffer";
import mqttPacket from "mqtt-packet";
import { type Packet, type PublishPacket, tsCodec } from "../core/codec/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { copyOf } from "../core/_slab.ts";

const VARIANTS = 16;
const TOPIC = "v1/devices/me/telemetry";
const encoder = new TextEncoder();
/** Keeps results alive so the work is not optimized away. */
export let sink: unknown;

function json60(i: number): Uint8Array {
  const text = `{"temperature":${(20 + i / 7).toFixed(2)},"humidity":${40 + i},"on":true}`;
  return encoder.encode(text.padEnd(60, " "));
}

function publishes(qos: 0 | 1, size: number): PublishPacket[] {
  return Array.from({ length: VARIANTS }, (_, i) => {
    const payload = size === 60 ? json60(i) : new Uint8Array(size).map((_, k) => k * 7 + i);
    return qos === 0
      ? { type: "publish", topic: TOPIC, payload, qos, retain: false, dup: false }
      : { type: "publish", topic: TOPIC, payload, qos, retain: false, dup: false, packetId: i + 1 };
  });
}

function toMqttPacket(p: Packet): mqttPacket.Packet {
  switch (p.type) {
    case "publish":
      return {
        cmd: "publish",
        topic: p.topic,
        payload: Buffer.from(p.payload.buffer, p.payload.byteOffset, p.payload.length),
        qos: p.qos,
        retain: p.retain,
        dup: p.dup,
        ...(p.packetId === undefined ? {} : { messageId: p.packetId }),
      } as mqttPacket.Packet;
    case "connect":
      return {
        cmd: "connect",
        protocolId: "MQTT",
        protocolVersion: 4,
        clientId: p.clientId,
        clean: p.clean,
        keepalive: p.keepalive,
        ...(p.username === undefined ? {} : { username: p.username }),
      } as mqttPacket.Packet;
    case "subscribe":
      return {
        cmd: "subscribe",
        messageId: p.packetId,
        subscriptions: p.subscriptions.map((s) => ({ topic: s.topicFilter, qos: s.qos })),
      } as mqttPacket.Packet;
    default:
      throw new TypeError(`no mapping for ${p.type}`);
  }
}

function encodeGroup(group: string, packets: Packet[]): void {
  const generated = packets.map(toMqttPacket);
  const bytes = packets.map((p) => tsCodec.encode(p));
  const target = new Uint8Array(Math.max(...bytes.map((b) => b.length)));
  let i = 0;
  Deno.bench({
    group,
    name: "Uint8Array.set (floor)",
    fn: () => {
      target.set(bytes[i++ & 15]!);
    },
  });
  const reused = new Uint8Array(64 * 1024);
  Deno.bench({
    group,
    name: "ts encodeInto (reused buffer, the client's path)",
    baseline: true,
    fn: () => {
      sink = tsCodec.encodeInto(packets[i++ & 15]!, reused, 0);
    },
  });
  Deno.bench({
    group,
    name: "ts encode (owned bytes)",
    fn: () => {
      sink = tsCodec.encode(packets[i++ & 15]!);
    },
  });
  Deno.bench({
    group,
    name: "wasm",
    fn: () => {
      sink = wasmCodec.encode(packets[i++ & 15]!);
    },
  });
  if (packets[0]!.type === "publish") {
    Deno.bench({
      group,
      name: "wasm outbound arena (no copy out)",
      fn: () => {
        sink = wasmCodec.encodeOutbound(packets[i++ & 15]!).release();
      },
    });
  }
  Deno.bench({
    group,
    name: "npm:mqtt-packet",
    fn: () => {
      sink = mqttPacket.generate(generated[i++ & 15]!);
    },
  });
}

function decodeGroup(group: string, packets: Packet[], repeat = 1): void {
  const one = packets.map((p) => tsCodec.encode(p));
  const chunks = one.map((b, k) => {
    if (repeat === 1) return b;
    const all = new Uint8Array(b.length * repeat);
    for (let r = 0; r < repeat; r++) all.set(one[(k + r) & 15]!, r * b.length);
    return all;
  });
  const buffers = chunks.map((c) => Buffer.from(c.buffer, c.byteOffset, c.length));
  const tsDecoder = tsCodec.createDecoder();
  const wasmDecoder = wasmCodec.createDecoder();
  const inPlace = wasmCodec.createDecoder();
  const target = new Uint8Array(Math.max(...chunks.map((c) => c.length)));
  const parser = mqttPacket.parser({ protocolVersion: 4 });
  let parsed = 0;
  parser.on("packet", () => parsed++);
  let i = 0;
  Deno.bench({
    group,
    name: "Uint8Array.set (floor)",
    fn: () => {
      target.set(chunks[i++ & 15]!);
    },
  });
  // Two fair pairs (same work on both sides). Zero-copy: the TS decoder's
  // payloads are views of the pushed chunk, "wasm in place, payload views" are
  // views of the read buffer. Owned: "wasm in place, owned payloads" copies
  // each payload out of wasm memory (the next read reuses it), so "ts, owned
  // payloads" copies each out of the chunk with the same helper (as needed
  // when the chunk's buffer is reused for the next read).
  Deno.bench({
    group,
    name: "ts (payload views of the chunk)",
    baseline: true,
    fn: () => {
      sink = tsDecoder.push(chunks[i++ & 15]!);
    },
  });
  const tsOwned = tsCodec.createDecoder();
  Deno.bench({
    group,
    name: "ts, owned payloads (copied out of the chunk)",
    fn: () => {
      const packets = tsOwned.push(chunks[i++ & 15]!);
      for (let k = 0; k < packets.length; k++) {
        const p = packets[k]!;
        if (p.type === "publish") p.payload = copyOf(p.payload, 0, p.payload.length);
      }
      sink = packets;
    },
  });
  Deno.bench({
    group,
    name: "wasm push (copies in)",
    fn: () => {
      sink = wasmDecoder.push(chunks[i++ & 15]!);
    },
  });
  // Bytes already in wasm memory, as after a socket read into readBuffer():
  // the same bytes are committed again each iteration (they stay in place).
  const size = chunks[0]!.length;
  inPlace.readBuffer().set(chunks[0]!);
  Deno.bench({
    group,
    name: "wasm in place, owned payloads (read into wasm memory)",
    fn: () => {
      inPlace.readBuffer();
      if (inPlace.commit(size).length !== repeat) throw new Error("lost a packet");
    },
  });
  const views = wasmCodec.createDecoder({ payloadViews: true });
  views.readBuffer().set(chunks[0]!);
  Deno.bench({
    group,
    name: "wasm in place, payload views (valid until next read)",
    fn: () => {
      views.readBuffer();
      if (views.commit(size).length !== repeat) throw new Error("lost a packet");
    },
  });
  Deno.bench({
    group,
    name: "npm:mqtt-packet",
    fn: () => {
      sink = parser.parse(buffers[i++ & 15]!);
    },
  });
}

const qos0 = publishes(0, 60);
const qos1 = publishes(1, 4096);
encodeGroup("encode PUBLISH QoS 0, 60 B JSON", qos0);
encodeGroup("encode PUBLISH QoS 1, 4 KiB", qos1);
decodeGroup("decode PUBLISH QoS 0, 60 B JSON", qos0);
decodeGroup("decode PUBLISH QoS 1, 4 KiB", qos1);
decodeGroup("decode 100 PUBLISH (60 B) in one chunk", qos0, 100);

const connects: Packet[] = Array.from({ length: VARIANTS }, (_, i) => ({
  type: "connect",
  protocolVersion: 4,
  clientId: `device-${i}`,
  clean: true,
  keepalive: 60,
  username: `ACCESS_TOKEN_${i}abcdefgh`,
}));
encodeGroup("encode CONNECT", connects);

const subscribes: Packet[] = Array.from({ length: VARIANTS }, (_, i) => ({
  type: "subscribe",
  packetId: i + 1,
  subscriptions: [
    { topicFilter: "v1/devices/me/attributes", qos: 1 },
    { topicFilter: "v1/devices/me/rpc/request/+", qos: 1 },
    { topicFilter: "v1/devices/me/attributes/response/+", qos: 1 },
  ],
}));
encodeGroup("encode SUBSCRIBE", subscribes);
