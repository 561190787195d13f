// The wasm decoder against the TS decoder: random chunking, fuzzed bytes,
// the zero-copy read path, packets larger than the arena, failure and reset.

import assert from "node:assert/strict";
import {
  MqttDecodeError,
  type Packet,
  type PacketDecoder,
  type ProtocolVersion,
  tsCodec,
} from "../core/codec/mod.ts";
import { wasmCodec } from "../wasm/mod.ts";
import { concat, Prng, randomPackets } from "./_gen_packets.ts";

type Outcome = { packets: Packet[] } | {
  error: { name: string; code: string; message: string; offset: number };
};

function run(decoder: PacketDecoder, chunks: Uint8Array[]): Outcome[] {
  const out: Outcome[] = [];
  for (const chunk of chunks) {
    try {
      out.push({ packets: decoder.push(chunk) });
    } catch (e) {
      assert.ok(e instanceof MqttDecodeError, `not a typed error: ${e}`);
      out.push({ error: { name: e.name, code: e.code, message: e.message, offset: e.offset } });
    }
  }
  return out;
}

function split(rng: Prng, bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length;) {
    const n = Math.min(bytes.length - at, rng.int(1, 300));
    chunks.push(bytes.slice(at, at + n));
    at += n;
  }
  return chunks;
}

Deno.test("WasmDecoder.push() equals MqttDecoder on randomly split streams", () => {
  for (const version of [3, 4, 5] as ProtocolVersion[]) {
    const rng = new Prng(77 + version);
    const packets = randomPackets(rng, version, 1500).filter((p) => p.type !== "connect");
    const stream = concat(packets.map((p) => tsCodec.encode(p, { protocolVersion: version })));
    const chunks = split(rng, stream);
    const options = { protocolVersion: version };
    const expected = run(tsCodec.createDecoder(options), chunks);
    assert.deepEqual(run(wasmCodec.createDecoder(options), chunks), expected);
    assert.equal(expected.flatMap((o) => "packets" in o ? o.packets : []).length, packets.length);
  }
});

Deno.test("WasmDecoder fails like MqttDecoder on fuzzed bytes (never a RuntimeError)", () => {
  const rng = new Prng(0xf022);
  const valid = randomPackets(rng, 5, 200).map((p) => tsCodec.encode(p, { protocolVersion: 5 }));
  const decoders = ([3, 4, 5] as ProtocolVersion[]).map((protocolVersion) => {
    const options = { protocolVersion, maxPacketSize: 4096 };
    return [tsCodec.createDecoder(options), wasmCodec.createDecoder(options)] as const;
  });
  for (let i = 0; i < 3000; i++) {
    const version = ([3, 4, 5] as ProtocolVersion[])[i % 3]!;
    let bytes: Uint8Array;
    if (i % 2 === 0) {
      bytes = rng.bytes(rng.int(1, 64)); // pure noise
    } else {
      bytes = valid[i % valid.length]!.slice(); // a valid packet with a few flipped bytes
      for (let k = rng.int(1, 3); k > 0; k--) bytes[rng.int(0, bytes.length - 1)] = rng.int(0, 255);
    }
    const chunks = i % 4 < 2 ? [bytes] : split(rng, bytes);
    const [ts, wasm] = decoders[version - 3]!;
    ts.reset();
    wasm.reset();
    ts.protocolVersion = wasm.protocolVersion = version; // a fuzzed CONNECT may have switched it
    const expected = run(ts, [...chunks, new Uint8Array([0xd0, 0x00])]);
    const actual = run(wasm, [...chunks, new Uint8Array([0xd0, 0x00])]);
    assert.deepEqual(actual, expected, `case ${i}: ${Array.from(bytes, (b) => b.toString(16))}`);
  }
});

Deno.test("WasmDecoder.readBuffer() and commit() decode bytes written into wasm memory", () => {
  const decoder = wasmCodec.createDecoder({ protocolVersion: 4 });
  const packet: Packet = {
    type: "publish",
    topic: "v1/devices/me/rpc/request/1",
    payload: new TextEncoder().encode('{"method":"ping"}'),
    qos: 1,
    retain: false,
    dup: false,
    packetId: 9,
  };
  const bytes = tsCodec.encode(packet);
  const received: Packet[] = [];
  for (let i = 0; i < 40_000; i++) {
    // Like a socket read: fill part of the view, commit the count.
    const view = decoder.readBuffer();
    assert.ok(view.length > 0);
    if (i % 2 === 0) {
      view.set(bytes);
      received.push(...decoder.commit(bytes.length));
    } else {
      view.set(bytes.subarray(0, 7));
      assert.deepEqual(decoder.commit(7), []);
      assert.equal(decoder.bufferedBytes, 7);
      decoder.readBuffer().set(bytes.subarray(7));
      received.push(...decoder.commit(bytes.length - 7));
    }
  }
  assert.equal(received.length, 40_000);
  assert.deepEqual(received[39_999], packet);
  assert.equal(decoder.bufferedBytes, 0);
});

Deno.test("WasmDecoder decodes a packet larger than its arena", () => {
  const payload = new Uint8Array(3 * 1024 * 1024).map((_, i) => i * 31);
  const packet: Packet = {
    type: "publish",
    topic: "big",
    payload,
    qos: 0,
    retain: false,
    dup: false,
  };
  const bytes = tsCodec.encode(packet);
  const decoder = wasmCodec.createDecoder();
  const packets = [];
  for (let at = 0; at < bytes.length; at += 65_536) {
    packets.push(...decoder.push(bytes.subarray(at, at + 65_536)));
  }
  assert.equal(packets.length, 1);
  assert.deepEqual(packets[0], packet);
  assert.deepEqual(decoder.push(new Uint8Array([0xd0, 0x00])), [{ type: "pingresp" }]);
});

Deno.test("WasmDecoder refuses input after an error until reset()", () => {
  const decoder = wasmCodec.createDecoder({ protocolVersion: 4 });
  assert.throws(() => decoder.push(new Uint8Array([0x36, 0x00])), { code: "INVALID_QOS" });
  assert.equal(decoder.failed, true);
  assert.throws(() => decoder.push(new Uint8Array([0xd0, 0x00])), { code: "DECODER_FAILED" });
  decoder.reset();
  assert.equal(decoder.failed, false);
  assert.deepEqual(decoder.push(new Uint8Array([0xd0, 0x00])), [{ type: "pingresp" }]);
});

Deno.test("WasmDecoder checks maxPacketSize on the header like MqttDecoder", () => {
  const bytes = new Uint8Array([0x30, 0xff, 0x7f]); // remaining length 16383
  const options = { maxPacketSize: 1000 };
  let expected: unknown;
  try {
    tsCodec.createDecoder(options).push(bytes);
  } catch (e) {
    expected = e;
  }
  assert.ok(expected instanceof MqttDecodeError && expected.code === "PACKET_TOO_LARGE");
  assert.throws(() => wasmCodec.createDecoder(options).push(bytes), expected);
  assert.throws(
    () => wasmCodec.createDecoder({ protocolVersion: 6 as ProtocolVersion }),
    RangeError,
  );
});

Deno.test("WasmDecoder instances sharing the engine's arena do not mix streams or topics", () => {
  const rng = new Prng(0x5ea7);
  const streams = [0, 1, 2].map((k) => {
    const packets: Packet[] = [];
    for (let i = 0; i < 300; i++) {
      packets.push({
        type: "publish",
        topic: i % 3 === 0 ? `t/${k}` : `t/${(k + 1) % 3}`, // repeated topics across decoders
        payload: rng.bytes(rng.int(0, 40)),
        qos: 1,
        retain: false,
        dup: false,
        packetId: i + 1,
      });
    }
    return { packets, chunks: split(rng, concat(packets.map((p) => tsCodec.encode(p)))) };
  });
  const decoders = streams.map(() => wasmCodec.createDecoder());
  const decoded: Packet[][] = [[], [], []];
  const longest = Math.max(...streams.map((s) => s.chunks.length));
  for (let i = 0; i < longest; i++) {
    for (let k = 0; k < 3; k++) {
      const chunk = streams[k]!.chunks[i];
      if (chunk !== undefined) decoded[k]!.push(...decoders[k]!.push(chunk));
    }
    // One decoder switches to its own arena midway; the others stay shared.
    if (i === 5) decoders[1]!.readBuffer();
  }
  for (let k = 0; k < 3; k++) assert.deepEqual(decoded[k], streams[k]!.packets);
});

Deno.test("WasmDecoder buffers what arrives, not what a huge header claims", () => {
  const decoder = wasmCodec.createDecoder();
  const header = new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f, 0x00, 0x01, 0x61]); // 256 MiB claimed
  assert.deepEqual(decoder.push(header), []);
  assert.equal(decoder.bufferedBytes, header.length);
  assert.ok(decoder.readBuffer().length <= 2 * 1024 * 1024);
});

Deno.test("WasmDecoder.readBuffer() fills a packet larger than the arena in place", () => {
  const payload = new Uint8Array(5 * 1024 * 1024).map((_, i) => i % 251);
  const packet: Packet = {
    type: "publish",
    topic: "big",
    payload,
    qos: 0,
    retain: false,
    dup: false,
  };
  const bytes = concat([tsCodec.encode(packet), new Uint8Array([0xd0, 0x00])]);
  const decoder = wasmCodec.createDecoder();
  const packets: Packet[] = [];
  for (let at = 0; at < bytes.length;) {
    const view = decoder.readBuffer();
    const n = Math.min(view.length, bytes.length - at, 100_000); // like socket reads
    view.set(bytes.subarray(at, at + n));
    packets.push(...decoder.commit(n));
    at += n;
  }
  assert.deepEqual(packets, [packet, { type: "pingresp" }]);
  assert.throws(() => wasmCodec.createDecoder().commit(1), TypeError);
});

Deno.test("WasmDecoder rejects an empty topic [MQTT-4.7.3-1] like MqttDecoder, also first thing", () => {
  for (const version of [4, 5] as ProtocolVersion[]) {
    const bytes = version === 5
      ? [0x30, 0x04, 0x00, 0x00, 0x00, 0x01]
      : [0x30, 0x03, 0x00, 0x00, 0x01];
    const chunks = [new Uint8Array(bytes)];
    const options = { protocolVersion: version };
    const expected = run(tsCodec.createDecoder(options), chunks);
    assert.ok("error" in expected[0]!);
    assert.deepEqual(run(wasmCodec.createDecoder(options), chunks), expected);
    // A fresh instance (own arena) has no topic cached yet: still refused.
    const fresh = wasmCodec.createDecoder(options);
    fresh.readBuffer().set(bytes);
    assert.throws(() => fresh.commit(bytes.length), { code: "INVALID_TOPIC" });
  }
});

Deno.test("WasmDecoder payloadViews: payloads are arena views valid until the next read", () => {
  const packet: Packet = {
    type: "publish",
    topic: "v1/devices/me/rpc/request/7",
    payload: new TextEncoder().encode('{"method":"reboot"}'),
    qos: 0,
    retain: false,
    dup: false,
  };
  const bytes = tsCodec.encode(packet);
  const decoder = wasmCodec.createDecoder({ payloadViews: true });
  const view = decoder.readBuffer();
  view.set(bytes);
  const [decoded] = decoder.commit(bytes.length);
  assert.deepEqual(decoded, packet);
  assert.ok(decoded?.type === "publish" && decoded.payload.buffer === view.buffer); // no copy
  // Without the option payloads are owned copies.
  const copying = wasmCodec.createDecoder();
  copying.readBuffer().set(bytes);
  const [owned] = copying.commit(bytes.length);
  assert.ok(owned?.type === "publish" && owned.payload.buffer !== copying.readBuffer().buffer);
});
