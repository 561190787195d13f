/**
 * Streaming-decoder conformance: a stream of several packets decodes to the
 * same packets however it is cut into chunks (every split point, every pair
 * of split points of a short stream, byte at a time, many packets in one
 * chunk), and the maximum packet size is enforced on the fixed header,
 * before the body is buffered.
 *
 * Packets are compared only after the whole stream was pushed, so a decoded
 * payload that is a view into memory the decoder later reuses fails too.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  type Codec,
  MqttDecodeError,
  type Packet,
  type PacketDecoder,
  type ProtocolVersion,
} from "../core/codec/mod.ts";
import { engineLabel, engines } from "./_engines.ts";
import {
  concat,
  describePacket,
  normalizePacket,
  PACKET_TYPES,
  Prng,
  randomPacket,
  toHex,
} from "./_gen_packets.ts";

const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];

interface Stream {
  /** Packets in order. */
  packets: Packet[];
  /** Their encodings, concatenated. */
  bytes: Uint8Array;
  /** Options for the decoder that reads it. */
  decoderOptions: { protocolVersion?: ProtocolVersion };
  /** Protocol level of each packet. */
  versions: ProtocolVersion[];
}

/**
 * A stream of random packets of every type but CONNECT, each encoding to at
 * most `maxBytes`. With `serverSide`, the stream opens with a CONNECT of
 * `version` and the decoder starts at its default level, so it must switch
 * to the level the CONNECT carries.
 */
function makeStream(
  engine: Codec,
  rng: Prng,
  version: ProtocolVersion,
  opts: { count: number; maxBytes: number; serverSide: boolean },
): Stream {
  const packets: Packet[] = [];
  const parts: Uint8Array[] = [];
  const types = PACKET_TYPES[version].filter((t) => t !== "connect");
  if (opts.serverSide) {
    let connect: Packet;
    let bytes: Uint8Array;
    do {
      connect = randomPacket(rng, version, "connect");
      bytes = engine.encode(connect);
    } while (bytes.length > opts.maxBytes);
    packets.push(connect);
    parts.push(bytes);
  }
  while (packets.length < opts.count) {
    const p = randomPacket(rng, version, types[packets.length % types.length]);
    const bytes = engine.encode(p, { protocolVersion: version });
    if (bytes.length > opts.maxBytes) continue;
    packets.push(p);
    parts.push(bytes);
  }
  return {
    packets,
    bytes: concat(parts),
    decoderOptions: opts.serverSide ? {} : { protocolVersion: version },
    versions: packets.map(() => version),
  };
}

/** Pushes `chunks` in order and returns every packet, checking the decoder's bookkeeping. */
function pushAll(decoder: PacketDecoder, chunks: readonly Uint8Array[]): Packet[] {
  const out: Packet[] = [];
  let pending = 0;
  for (const chunk of chunks) {
    pending += chunk.length;
    const got = decoder.push(chunk);
    out.push(...got);
    assert.ok(decoder.bufferedBytes <= pending, "bufferedBytes exceeds the bytes pushed");
    if (got.length > 0) pending = decoder.bufferedBytes;
  }
  assert.equal(decoder.failed, false);
  assert.equal(decoder.bufferedBytes, 0, "bytes left buffered at the end of the stream");
  return out;
}

function assertSame(stream: Stream, got: readonly Packet[], how: string): void {
  const ok = got.length === stream.packets.length &&
    got.every((p, i) =>
      isDeepStrictEqual(
        normalizePacket(p, stream.versions[i]!),
        normalizePacket(stream.packets[i]!, stream.versions[i]!),
      )
    );
  if (ok) return;
  const i = got.findIndex((p, i) =>
    stream.packets[i] === undefined ||
    !isDeepStrictEqual(
      normalizePacket(p, stream.versions[i]!),
      normalizePacket(stream.packets[i]!, stream.versions[i]!),
    )
  );
  assert.fail(
    `${how}: got ${got.length} packets, expected ${stream.packets.length}; first difference at #${i}\n` +
      `  expected: ${describePacket(stream.packets[i])}\n  got:      ${describePacket(got[i])}\n` +
      `  stream:   ${toHex(stream.bytes, 400)}`,
  );
}

function assertDecodeError(
  fn: () => unknown,
  code: string | string[],
  what: string,
): MqttDecodeError {
  const codes = typeof code === "string" ? [code] : code;
  try {
    fn();
  } catch (e) {
    assert.ok(
      e instanceof MqttDecodeError,
      `${what}: threw ${String(e)} instead of MqttDecodeError`,
    );
    assert.ok(
      codes.includes(e.code),
      `${what}: ${e.code} (${e.message}), expected ${codes.join(" or ")}`,
    );
    return e;
  }
  assert.fail(`${what}: did not throw ${codes.join(" or ")}`);
}

for (const engine of engines) {
  for (const version of VERSIONS) {
    const label = `MQTT level ${version}, ${engineLabel(engine)} engine`;

    Deno.test(`MqttDecoder.push() yields the same packets at every split point (${label})`, () => {
      const rng = new Prng(0x5917 + version);
      for (const serverSide of [false, true]) {
        const stream = makeStream(engine, rng, version, { count: 14, maxBytes: 300, serverSide });
        const decoder = engine.createDecoder(stream.decoderOptions);
        const b = stream.bytes;
        for (let cut = 0; cut <= b.length; cut++) {
          decoder.reset();
          decoder.protocolVersion = stream.decoderOptions.protocolVersion ?? 4;
          const got = pushAll(decoder, [b.subarray(0, cut), b.subarray(cut)]);
          assertSame(stream, got, `split at ${cut}`);
        }
        // One byte at a time, and random chunk sizes.
        const fresh = () => engine.createDecoder(stream.decoderOptions);
        assertSame(
          stream,
          pushAll(fresh(), Array.from(b, (_, i) => b.subarray(i, i + 1))),
          "byte at a time",
        );
        for (let round = 0; round < 50; round++) {
          const chunks: Uint8Array[] = [];
          for (let pos = 0; pos < b.length;) {
            const n = rng.int(0, 64);
            chunks.push(b.subarray(pos, pos + n));
            pos += n;
          }
          assertSame(stream, pushAll(fresh(), chunks), `random chunks, round ${round}`);
        }
      }
    });

    Deno.test(`MqttDecoder.push() yields the same packets at every pair of split points (${label})`, () => {
      const rng = new Prng(0x9a1 + version);
      for (const serverSide of [false, true]) {
        const stream = makeStream(engine, rng, version, { count: 6, maxBytes: 40, serverSide });
        const b = stream.bytes;
        const decoder = engine.createDecoder(stream.decoderOptions);
        for (let i = 0; i <= b.length; i++) {
          for (let j = i; j <= b.length; j++) {
            decoder.reset();
            decoder.protocolVersion = stream.decoderOptions.protocolVersion ?? 4;
            const got = pushAll(decoder, [b.subarray(0, i), b.subarray(i, j), b.subarray(j)]);
            assertSame(stream, got, `split at ${i} and ${j}`);
          }
        }
      }
    });

    Deno.test(`MqttDecoder.push() decodes many packets from one chunk (${label})`, () => {
      const rng = new Prng(0x3a11 + version);
      const stream = makeStream(engine, rng, version, {
        count: 3000,
        maxBytes: 4096,
        serverSide: version !== 4,
      });
      // A copy in a larger buffer at an odd offset: views must not assume offset 0.
      const backing = new Uint8Array(stream.bytes.length + 7);
      backing.set(stream.bytes, 3);
      const chunk = backing.subarray(3, 3 + stream.bytes.length);
      assertSame(
        stream,
        pushAll(engine.createDecoder(stream.decoderOptions), [chunk]),
        "one chunk",
      );
    });
  }

  Deno.test(`MqttDecoder.push() keeps earlier packets intact while large packets arrive in pieces (${engineLabel(engine)} engine)`, () => {
    // Small packets, then packets with 2-, 3- and 4-byte remaining lengths, then small
    // ones again; everything is compared only at the end, so a payload that is a view
    // into memory the decoder reuses or grows (detaching it) shows up as corrupted.
    const rng = new Prng(0x1a49e);
    const publish = (size: number, qos: 0 | 1): Packet => ({
      type: "publish",
      topic: `big/${size}`,
      payload: rng.bytes(size),
      qos,
      retain: false,
      dup: false,
      ...(qos > 0 ? { packetId: 1 + (size % 65_535) } : {}),
    });
    const packets: Packet[] = [
      ...Array.from({ length: 20 }, (_, i) => publish(i * 7, (i % 2) as 0 | 1)),
      publish(300, 1),
      publish(20_000, 0),
      publish(2_200_000, 1),
      ...Array.from({ length: 20 }, (_, i) => publish(i * 11, 0)),
      publish(70_000, 1),
    ];
    const parts = packets.map((p) => engine.encode(p, { protocolVersion: 5 }));
    const stream: Stream = {
      packets,
      bytes: concat(parts),
      decoderOptions: { protocolVersion: 5 },
      versions: packets.map(() => 5),
    };
    // Cut points around every packet boundary (inside each fixed header), plus random ones.
    const boundaries: number[] = [];
    let pos = 0;
    for (const part of parts) {
      for (let d = -3; d <= 6; d++) boundaries.push(pos + d);
      pos += part.length;
    }
    const b = stream.bytes;
    for (let round = 0; round < 12; round++) {
      const cuts = new Set<number>();
      for (const c of boundaries) if (rng.bool(0.3)) cuts.add(c);
      for (let k = 0; k < 40; k++) cuts.add(rng.int(0, b.length));
      const sorted = [...cuts].filter((c) => c > 0 && c < b.length).sort((x, y) => x - y);
      const chunks: Uint8Array[] = [];
      let from = 0;
      for (const c of [...sorted, b.length]) {
        chunks.push(b.subarray(from, c));
        from = c;
      }
      assertSame(
        stream,
        pushAll(engine.createDecoder({ protocolVersion: 5 }), chunks),
        `round ${round}`,
      );
    }
  });

  Deno.test(`MqttDecoder.push() decodes repeated and near-identical topics across decoders (${engineLabel(engine)} engine)`, () => {
    // An engine may cache the last topic (shared by its decoders): repeats must come out
    // equal, and a topic differing from a cached one in a single byte (a wildcard, U+0000)
    // or in length (empty) must still be validated [MQTT-3.3.2-2] [MQTT-4.7.3-1].
    const rng = new Prng(0x70b1c);
    const valid = ["a", "ab", "a/b", "\uFEFFa", "é/€/😀", "/", "x".repeat(256), "x".repeat(257)];
    const invalid = ["", "a+", "+", "#", "a\0", "x".repeat(255) + "#", "x".repeat(256) + "+"];
    const decoders = ([3, 4, 5] as const).map((v) => ({
      v,
      d: engine.createDecoder({ protocolVersion: v }),
    }));
    const enc = new TextEncoder();
    const got: Packet[] = [];
    const expected: Packet[] = [];
    for (let i = 0; i < 3000; i++) {
      const { v, d } = rng.pick(decoders);
      if (rng.bool(0.2)) {
        // A PUBLISH whose topic is invalid, written by hand (the encoder refuses it).
        const topic = enc.encode(rng.pick(invalid));
        const body = [topic.length >> 8, topic.length & 0xff, ...topic, ...(v === 5 ? [0] : []), 1];
        const rl = body.length < 128
          ? [body.length]
          : [0x80 | (body.length & 0x7f), body.length >> 7];
        const bytes = new Uint8Array([0x30, ...rl, ...body]);
        const codes = ["INVALID_TOPIC", "INVALID_UTF8"];
        assertDecodeError(() => d.push(bytes), codes, `topic ${toHex(topic, 8)}`);
        d.reset();
        d.protocolVersion = v;
        continue;
      }
      const qos = rng.pick([0, 1, 2] as const);
      const p: Packet = {
        type: "publish",
        topic: rng.pick(valid),
        payload: rng.bytes(rng.int(0, 8)),
        qos,
        retain: rng.bool(),
        dup: qos > 0 && rng.bool(),
        ...(qos > 0 ? { packetId: rng.int(1, 65_535) } : {}),
        ...(v === 5 && rng.bool(0.3) ? { properties: { contentType: "c" } } : {}),
      };
      const bytes = engine.encode(p, { protocolVersion: v });
      const cut = rng.int(0, bytes.length);
      got.push(...d.push(bytes.subarray(0, cut)), ...d.push(bytes.subarray(cut)));
      expected.push(p);
      assert.equal(got.length, expected.length, `packet ${i} not decoded`);
      assert.equal((got.at(-1) as { topic: string }).topic, p.topic, `packet ${i}`);
    }
    assert.deepEqual(
      got.map((p) => normalizePacket(p, 5)),
      expected.map((p) => normalizePacket(p, 5)),
    );
  });

  Deno.test(`MqttDecoder checks the maximum packet size on the fixed header, before buffering (${engineLabel(engine)} engine)`, () => {
    const publish: Packet = {
      type: "publish",
      topic: "t",
      payload: new Uint8Array(1000).fill(7),
      qos: 0,
      retain: false,
      dup: false,
    };
    const bytes = engine.encode(publish);
    const headerLength = 3; // 0x30, then remaining length 1003 in two bytes
    assert.equal(bytes[1]! & 0x80, 0x80);

    // Exactly at the limit: accepted.
    const atLimit = engine.createDecoder({ maxPacketSize: bytes.length });
    assert.equal(atLimit.push(bytes).length, 1);

    // One byte over: refused as soon as the header is complete, with nothing buffered from the body.
    const over = engine.createDecoder({ maxPacketSize: bytes.length - 1 });
    assertDecodeError(
      () => over.push(bytes.subarray(0, headerLength)),
      "PACKET_TOO_LARGE",
      "header only",
    );
    assert.equal(over.failed, true);

    // A huge declared remaining length with only the header pushed.
    const huge = new Uint8Array([0x30, 0xff, 0xff, 0xff, 0x7f]);
    const small = engine.createDecoder({ maxPacketSize: 1024 });
    const err = assertDecodeError(
      () => small.push(huge),
      "PACKET_TOO_LARGE",
      "268435455-byte PUBLISH header",
    );
    assert.ok(err.offset >= 0 && err.offset <= huge.length, `offset ${err.offset}`);
    assert.ok(small.bufferedBytes <= huge.length);

    // The same header byte by byte: refused by the time its last byte arrives.
    const byByte = engine.createDecoder({ maxPacketSize: 1024 });
    assertDecodeError(
      () => {
        for (let i = 0; i < huge.length; i++) byByte.push(huge.subarray(i, i + 1));
      },
      "PACKET_TOO_LARGE",
      "header byte by byte",
    );

    // After valid packets: the offset points into the offending packet's header.
    const ping = new Uint8Array([0xc0, 0x00]);
    const after = engine.createDecoder({ maxPacketSize: 1024 });
    const e2 = assertDecodeError(
      () => after.push(concat([ping, ping, huge])),
      "PACKET_TOO_LARGE",
      "after 2 PINGREQs",
    );
    assert.ok(
      e2.offset >= 4 && e2.offset <= 4 + huge.length,
      `offset ${e2.offset} outside the header`,
    );

    // The fixed header counts: with a 2-byte limit, PINGREQ fits and a 3-byte packet does not.
    const tiny = engine.createDecoder({ maxPacketSize: 2 });
    assert.deepEqual(tiny.push(ping), [{ type: "pingreq" }]);
    assertDecodeError(
      () => tiny.push(new Uint8Array([0x40, 0x01])),
      "PACKET_TOO_LARGE",
      "3-byte packet, limit 2",
    );

    // The default limit (268,435,460 bytes) accepts the largest header and waits for the body.
    const dflt = engine.createDecoder();
    assert.deepEqual(dflt.push(huge), []);
    assert.equal(dflt.failed, false);
    assert.ok(dflt.bufferedBytes <= huge.length);
  });

  Deno.test(`MqttDecoder refuses malformed remaining lengths in the header [MQTT-1.5.5-1] (${engineLabel(engine)} engine)`, () => {
    const cases: [string, number[]][] = [
      ["5-byte remaining length", [0x30, 0xff, 0xff, 0xff, 0xff, 0x01]],
      ["non-minimal 2-byte zero", [0xc0, 0x80, 0x00]],
      ["non-minimal 4-byte 127", [0x30, 0xff, 0x80, 0x80, 0x00]],
    ];
    for (const [what, bytes] of cases) {
      const decoder = engine.createDecoder();
      assertDecodeError(
        () => decoder.push(new Uint8Array(bytes)),
        "MALFORMED_REMAINING_LENGTH",
        what,
      );
    }
  });

  Deno.test(`MqttDecoder refuses input after an error until reset() (${engineLabel(engine)} engine)`, () => {
    const ping = new Uint8Array([0xc0, 0x00]);
    const decoder = engine.createDecoder({ maxPacketSize: 16 });
    assert.equal(decoder.push(ping).length, 1);
    assertDecodeError(
      () => decoder.push(new Uint8Array([0x36, 0x00])),
      "INVALID_QOS",
      "PUBLISH QoS 3",
    );
    assert.equal(decoder.failed, true);
    assertDecodeError(() => decoder.push(ping), "DECODER_FAILED", "push after error");
    assertDecodeError(() => decoder.push(ping), "DECODER_FAILED", "second push after error");
    decoder.reset();
    assert.equal(decoder.failed, false);
    assert.equal(decoder.bufferedBytes, 0);
    assert.deepEqual(decoder.push(ping), [{ type: "pingreq" }]);
    // reset() also drops a partly buffered packet.
    assert.deepEqual(decoder.push(new Uint8Array([0x30, 0x05, 0x00])), []);
    assert.ok(decoder.bufferedBytes > 0);
    decoder.reset();
    assert.equal(decoder.bufferedBytes, 0);
    assert.deepEqual(decoder.push(ping), [{ type: "pingreq" }]);
  });
}
