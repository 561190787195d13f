// Differential tests: the wasm engine against the TS codec, byte for byte and
// packet for packet, on exact vectors, edge packets and random packets.

import assert from "node:assert/strict";
import { type Packet, type ProtocolVersion, tsCodec } from "../core/codec/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { sharedInstance } from "../wasm/_instance.ts";
import { encodeTelemetryPublishOutbound } from "../core/telemetry/mod.ts";
import { edgePackets, Prng, randomPackets, toHex } from "./_gen_packets.ts";

const VERSIONS: ProtocolVersion[] = [3, 4, 5];
const RANDOM_PER_VERSION = 4_000; // 12,000 packets in all

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.split(" "), (b) => parseInt(b, 16));
}

const payload = new TextEncoder().encode('{"t":21}');

/** Exact encodings (MQTT 3.1.1 §3.3, §3.4, §3.12, §3.13; MQTT 5.0 §3.3.2.3, §3.4.2.1). */
const VECTORS: { name: string; version: ProtocolVersion; packet: Packet; bytes: string }[] = [
  {
    name: "PUBLISH QoS 0",
    version: 4,
    packet: { type: "publish", topic: "a/b", payload, qos: 0, retain: false, dup: false },
    bytes: "30 0d 00 03 61 2f 62 7b 22 74 22 3a 32 31 7d",
  },
  {
    name: "PUBLISH QoS 1 retain dup",
    version: 4,
    packet: {
      type: "publish",
      topic: "a",
      payload: new Uint8Array(),
      qos: 1,
      retain: true,
      dup: true,
      packetId: 0x1234,
    },
    bytes: "3b 05 00 01 61 12 34",
  },
  {
    name: "PUBLISH QoS 2 v5 with empty property block",
    version: 5,
    packet: {
      type: "publish",
      topic: "a",
      payload: hex("01 02"),
      qos: 2,
      retain: false,
      dup: false,
      packetId: 1,
    },
    bytes: "34 08 00 01 61 00 01 00 01 02",
  },
  {
    name: "PUBACK 3.1.1",
    version: 4,
    packet: { type: "puback", packetId: 7 },
    bytes: "40 02 00 07",
  },
  {
    name: "PUBACK v5 success",
    version: 5,
    packet: { type: "puback", packetId: 7, reasonCode: 0 },
    bytes: "40 02 00 07",
  },
  {
    name: "PUBACK v5 Payload format invalid",
    version: 5,
    packet: { type: "puback", packetId: 7, reasonCode: 0x99 },
    bytes: "40 03 00 07 99",
  },
  {
    name: "PUBREL",
    version: 4,
    packet: { type: "pubrel", packetId: 0xffff },
    bytes: "62 02 ff ff",
  },
  { name: "PINGREQ", version: 4, packet: { type: "pingreq" }, bytes: "c0 00" },
  { name: "PINGRESP", version: 5, packet: { type: "pingresp" }, bytes: "d0 00" },
];

Deno.test("wasmCodec.encode() matches the exact vectors", () => {
  for (const v of VECTORS) {
    const options = { protocolVersion: v.version };
    assert.equal(toHex(wasmCodec.encode(v.packet, options)), v.bytes, v.name);
    const buffer = new Uint8Array(v.bytes.split(" ").length + 4);
    const n = wasmCodec.encodeInto(v.packet, buffer, 2, options);
    assert.equal(toHex(buffer.subarray(2, 2 + n)), v.bytes, `${v.name} (encodeInto)`);
    const out = wasmCodec.encodeOutbound(v.packet, options);
    assert.equal(toHex(out.bytes), v.bytes, `${v.name} (encodeOutbound)`);
    out.release();
  }
});

Deno.test("wasmCodec.createDecoder() decodes the exact vectors", () => {
  for (const v of VECTORS) {
    const decoder = wasmCodec.createDecoder({ protocolVersion: v.version });
    const [packet, ...rest] = decoder.push(hex(v.bytes));
    assert.deepEqual(rest, [], v.name);
    const expected = tsCodec.createDecoder({ protocolVersion: v.version }).push(hex(v.bytes));
    assert.deepEqual([packet], expected, v.name);
  }
});

function differential(packets: Packet[], version: ProtocolVersion): void {
  const options = { protocolVersion: version };
  const wasmDecoder = wasmCodec.createDecoder(options);
  const tsDecoder = tsCodec.createDecoder(options);
  for (const packet of packets) {
    const expected = tsCodec.encode(packet, options);
    const actual = wasmCodec.encode(packet, options);
    assert.deepEqual(actual, expected, `encode ${packet.type} v${version}`);
    assert.equal(wasmCodec.encodedLength(packet, options), expected.length);
    const out = wasmCodec.encodeOutbound(packet, options);
    assert.deepEqual(out.bytes, expected, `encodeOutbound ${packet.type} v${version}`);
    out.release();
    if (packet.type === "connect") continue; // would switch the stream's level
    assert.deepEqual(
      wasmDecoder.push(expected),
      tsDecoder.push(expected),
      `decode ${toHex(expected, 32)}`,
    );
  }
}

Deno.test("wasmCodec matches tsCodec on edge packets", () => {
  for (const version of VERSIONS) differential(edgePackets(version), version);
});

Deno.test("wasmCodec matches tsCodec on 12,000 random packets", () => {
  for (const version of VERSIONS) {
    differential(randomPackets(new Prng(0x3a5e + version), version, RANDOM_PER_VERSION), version);
  }
});

Deno.test("wasmCodec.encode() throws the TS codec's errors for invalid packets", () => {
  const bad: unknown[] = [
    { type: "publish", topic: "a/+", payload, qos: 0, retain: false, dup: false },
    { type: "publish", topic: "", payload, qos: 0, retain: false, dup: false },
    { type: "publish", topic: "a", payload, qos: 1, retain: false, dup: false },
    { type: "publish", topic: "a", payload, qos: 3, retain: false, dup: false },
    { type: "publish", topic: "a", payload, qos: 0, retain: false, dup: true },
    { type: "publish", topic: "a\ud800", payload, qos: 0, retain: false, dup: false },
    { type: "publish", topic: "a", payload: "text", qos: 0, retain: false, dup: false },
    { type: "puback", packetId: 0 },
  ];
  for (const packet of bad) {
    let expected: unknown;
    try {
      tsCodec.encode(packet as Packet);
    } catch (e) {
      expected = e;
    }
    assert.ok(expected instanceof Error, JSON.stringify(packet));
    assert.throws(() => wasmCodec.encode(packet as Packet), expected as Error);
    assert.throws(() => wasmCodec.encodeOutbound(packet as Packet).release(), expected as Error);
  }
});

Deno.test("wasmCodec.encodeInto() throws RangeError when the packet does not fit", () => {
  const packet: Packet = {
    type: "publish",
    topic: "a",
    payload,
    qos: 0,
    retain: false,
    dup: false,
  };
  let expected: unknown;
  try {
    tsCodec.encodeInto(packet, new Uint8Array(5), 0);
  } catch (e) {
    expected = e;
  }
  assert.ok(expected instanceof RangeError);
  assert.throws(() => wasmCodec.encodeInto(packet, new Uint8Array(5), 0), expected);
});

// The differential tests above would also pass if every packet fell back to
// the TS codec; these check that covered PUBLISH packets are framed in wasm.
Deno.test("encodeOutbound() frames a covered PUBLISH in wasm memory, not via the TS fallback", () => {
  const wasmMemory = sharedInstance().u8.buffer;
  const packet: Packet = {
    type: "publish",
    topic: "v1/devices/me/telemetry",
    payload,
    qos: 1,
    retain: false,
    dup: false,
    packetId: 9,
  };
  for (const version of VERSIONS) {
    const out = wasmCodec.encodeOutbound(packet, { protocolVersion: version });
    assert.equal(out.bytes.buffer, wasmMemory, `v${version}`);
    assert.deepEqual(out.bytes, tsCodec.encode(packet, { protocolVersion: version }));
    out.release();
  }
  const telemetry = encodeTelemetryPublishOutbound("v1/devices/me/telemetry", { t: 21 });
  assert.equal(telemetry.bytes.buffer, wasmMemory);
  telemetry.release();
});
