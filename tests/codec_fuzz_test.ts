/**
 * Fuzz test of the streaming decoders: random and mutated inputs (bit flips,
 * truncation, byte insertion and deletion, remaining-length and inner-length
 * corruption, and string fields rewritten with consistent lengths, of valid
 * packets of every type and level; pure random bytes)
 * must produce only `MqttDecodeError`, never another exception, and never
 * hold more than the maximum packet size. After an error the decoder refuses
 * input (`DECODER_FAILED`) until reset. Whatever the decoder accepts must be
 * a valid packet: the independent oracle in `codec_spec_rules.ts` finds no
 * violation, and it re-encodes and decodes back to itself.
 *
 * A hang would show as this test never finishing. The normal run does
 * 100,000 inputs per engine; set TBWASM_FUZZ_ITERATIONS for more and
 * TBWASM_FUZZ_SEED for another sequence.
 *
 * @module
 */

import assert from "node:assert/strict";
import { isDeepStrictEqual } from "node:util";
import {
  type Codec,
  MqttDecodeError,
  type MqttDecodeErrorCode,
  type Packet,
  type PacketDecoder,
  type ProtocolVersion,
  type PublishPacket,
} from "../core/codec/mod.ts";
import { engineLabel, engines } from "./_engines.ts";
import {
  concat,
  describePacket,
  normalizePacket,
  packetViolation,
  Prng,
  randomPacket,
  randomPackets,
  randomString,
  REASON_CODES_V5,
  toHex,
} from "./_gen_packets.ts";

function envNumber(name: string, fallback: number): number {
  try {
    const v = Number(Deno.env.get(name));
    return Number.isFinite(v) && v > 0 ? v : fallback;
  } catch {
    return fallback; // no --allow-env
  }
}

const ITERATIONS = Math.max(100_000, envNumber("TBWASM_FUZZ_ITERATIONS", 100_000));
const SEED = envNumber("TBWASM_FUZZ_SEED", 0xf022);
const VERSIONS: readonly ProtocolVersion[] = [3, 4, 5];
const SMALL_MAX = 300;
const CONNACK_V5 = REASON_CODES_V5.connack!;
const DEFAULT_MAX = 268_435_460;

const CODES: ReadonlySet<MqttDecodeErrorCode> = new Set<MqttDecodeErrorCode>([
  "MALFORMED_REMAINING_LENGTH",
  "PACKET_TOO_LARGE",
  "INVALID_PACKET_TYPE",
  "INVALID_HEADER_FLAGS",
  "INVALID_QOS",
  "INVALID_PACKET_ID",
  "INVALID_UTF8",
  "INVALID_TOPIC",
  "INVALID_PROPERTY",
  "INVALID_REASON_CODE",
  "UNSUPPORTED_PROTOCOL",
  "MALFORMED_PACKET",
  "LENGTH_MISMATCH",
]);

/** Valid encodings of packets of every type, per level: up to 2 KiB, and a pool of short ones. */
interface Corpus {
  all: Uint8Array[];
  small: Uint8Array[];
}

function corpus(engine: Codec, version: ProtocolVersion): Corpus {
  const rng = new Prng(SEED ^ (version * 0x9e37));
  const encode = (p: Packet) => engine.encode(p, { protocolVersion: version });
  const all = randomPackets(rng, version, 1200).map(encode).filter((b) => b.length <= 2048);
  // Short packets: a mutation then lands on a length, flag or string byte more often.
  // Random PUBLISHes are rarely short, so add shortened ones.
  const small = all.filter((b) => b.length <= 40);
  for (let i = 0; i < 200; i++) {
    const p = randomPacket(rng, version, "publish") as PublishPacket;
    const short: PublishPacket = {
      ...p,
      topic: randomString(rng, rng.int(1, 4), "+#"),
      payload: p.payload.subarray(0, rng.int(0, 6)),
    };
    if (rng.bool(0.7)) delete short.properties;
    small.push(encode(short));
  }
  return { all, small };
}

const ascii = (s: string) => [...s].map((c) => c.charCodeAt(0));

/** Strings and binaries a rewritten field takes: empty, wildcards, U+0000, ill-formed UTF-8, BOM. */
const FIELD_REPLACEMENTS: readonly number[][] = [
  [],
  ascii("+"),
  ascii("#"),
  ascii("a/#"),
  ascii("a/+/b"),
  ascii("a#"),
  ascii("/"),
  ascii("$share/g"),
  ascii("$share//a"),
  ascii("$share/g/a"),
  [0x61, 0x00],
  [0xc0, 0x80],
  [0xed, 0xa0, 0x80],
  [0xf4, 0x90, 0x80, 0x80],
  [0xe2, 0x82],
  [0xef, 0xbb, 0xbf],
  ascii("MQTT"),
  ascii("MQIsdp"),
];

/** `first` and `body` as a packet with a (minimal) remaining length in between. */
function withHeader(first: number, body: Uint8Array): Uint8Array {
  const len: number[] = [];
  let n = body.length;
  do {
    len.push((n & 0x7f) | (n > 0x7f ? 0x80 : 0));
    n = Math.floor(n / 128);
  } while (n > 0);
  const out = new Uint8Array(1 + len.length + body.length);
  out[0] = first;
  out.set(len, 1);
  out.set(body, 1 + len.length);
  return out;
}

/** Offset and length of the remaining-length field of an encoded packet. */
function lengthField(b: Uint8Array): [number, number] {
  let n = 1;
  while (n < 5 && n < b.length && (b[n]! & 0x80) !== 0) n++;
  return [1, n];
}

function mutate(rng: Prng, valid: Corpus): Uint8Array {
  const base = () => rng.pick(rng.bool() ? valid.small : valid.all);
  switch (rng.int(0, 11)) {
    case 0: // pure random bytes
      return rng.bytes(rng.bool(0.9) ? rng.int(0, 64) : rng.int(65, 600));
    case 1: { // random body behind a plausible fixed header
      const body = rng.bytes(rng.int(0, 80));
      const out = new Uint8Array(body.length + 2);
      out[0] = (rng.int(0, 15) << 4) | rng.pick([0, 0, 2, rng.int(0, 15)]);
      out[1] = body.length;
      out.set(body, 2);
      return out;
    }
    case 2:
    case 3: { // bit flips
      const out = base().slice();
      for (let k = rng.int(1, 4); k > 0; k--) {
        const i = rng.int(0, out.length - 1);
        out[i]! ^= 1 << rng.int(0, 7);
      }
      return out;
    }
    case 4: { // truncation (the decoder waits, or fails on what it has)
      const b = base();
      return b.slice(0, rng.int(0, b.length - 1));
    }
    case 5: { // byte insertion (header length kept: the packet now ends early)
      const b = base();
      const i = rng.int(1, b.length);
      const ins = rng.bytes(rng.int(1, 3));
      const out = new Uint8Array(b.length + ins.length);
      out.set(b.subarray(0, i));
      out.set(ins, i);
      out.set(b.subarray(i), i + ins.length);
      return out;
    }
    case 6: { // byte deletion
      const b = base();
      const i = rng.int(1, b.length - 1);
      const n = Math.min(rng.int(1, 3), b.length - i);
      const out = new Uint8Array(Math.max(0, b.length - n));
      out.set(b.subarray(0, i));
      out.set(b.subarray(i + n).subarray(0, out.length - i), i);
      return out;
    }
    case 7: { // remaining-length field corruption
      const b = base();
      const [start, len] = lengthField(b);
      const field = rng.pick([
        [rng.int(0, 127)],
        [0x80 | rng.int(0, 127), rng.int(0, 127)],
        [0xff, 0xff, 0xff, 0x7f],
        [0xff, 0xff, 0xff, 0xff, 0x01], // 5 bytes
        [0x80, 0x00], // not minimal [MQTT-1.5.5-1]
        [0x80 | rng.int(0, 127), 0x80, 0x80, 0x00],
      ]);
      const out = new Uint8Array(b.length - len + field.length);
      out.set(b.subarray(0, start));
      out.set(field, start);
      out.set(b.subarray(start + len), start + field.length);
      return out;
    }
    case 8: { // inner corruption: a 16-bit length (e.g. to 0), a property length, a special character
      const out = base().slice();
      const i = rng.int(2, Math.max(2, out.length - 2));
      if (rng.bool(0.3) && i + 1 < out.length) {
        out[i] = 0; // a zero-length string or binary, or a zero packet id
        out[i + 1] = 0;
        return out;
      }
      // deno-fmt-ignore
      out[i] = rng.pick([0x00, 0xff, 0x7f, 0x80, 0x2b /* + */, 0x23 /* # */, 0x2f /* / */, 0x24 /* $ */,
        0xc0, 0xed, 0xf4, 0xef, 0x01, 0x02, 0x03, rng.int(0, 255)]);
      if (rng.bool(0.3) && i + 1 < out.length) out[i + 1] = rng.pick([0x00, 0xff, rng.int(0, 255)]);
      return out;
    }
    case 9:
    case 10: { // a length-prefixed field rewritten, lengths fixed up: reaches the semantic checks
      const b = base();
      const [start, len] = lengthField(b);
      const body = b.subarray(start + len);
      const i = rng.int(0, Math.max(0, body.length - 2));
      const old = ((body[i] ?? 0) << 8) | (body[i + 1] ?? 0);
      if (i + 2 + old > body.length) return b.slice();
      const field = rng.pick(FIELD_REPLACEMENTS);
      const next = new Uint8Array(body.length - old + field.length);
      next.set(body.subarray(0, i));
      next.set([field.length >> 8, field.length & 0xff], i);
      next.set(field, i + 2);
      next.set(body.subarray(i + 2 + old), i + 2 + field.length);
      return withHeader(b[0]!, next);
    }
    default: { // several valid packets with one mutated in the middle
      return concat([base(), mutate(rng, valid), base()]);
    }
  }
}

interface Outcome {
  input: Uint8Array;
  failure?: string;
}

/** Feeds `input` in random chunks and checks every invariant; returns a failure description. */
function feed(
  engine: Codec,
  checker: PacketDecoder,
  decoder: PacketDecoder,
  maxPacketSize: number,
  version: ProtocolVersion,
  input: Uint8Array,
  rng: Prng,
): string | undefined {
  decoder.reset();
  decoder.protocolVersion = version;
  const decoded: Packet[] = [];
  let pushed = 0;
  for (let pos = 0; pos < input.length || pos === 0;) {
    const n = rng.bool(0.5) ? input.length - pos : rng.int(1, Math.max(1, input.length - pos));
    const chunk = input.subarray(pos, pos + n);
    pos += Math.max(n, 1);
    pushed += chunk.length;
    try {
      decoded.push(...decoder.push(chunk));
    } catch (e) {
      if (!(e instanceof MqttDecodeError)) {
        return `threw ${e instanceof Error ? e.stack : String(e)}`;
      }
      if (!CODES.has(e.code)) return `MqttDecodeError with code ${e.code}`;
      if (!Number.isInteger(e.offset) || e.offset < 0 || e.offset > pushed) {
        return `MqttDecodeError offset ${e.offset} outside 0..${pushed} (${e.code})`;
      }
      if (!decoder.failed) return `failed is false after ${e.code}`;
      if (rng.bool(0.75)) return undefined; // the refusal below is checked on a quarter of errors
      try {
        decoder.push(new Uint8Array([0xc0, 0x00]));
        return `accepted input after ${e.code}`;
      } catch (again) {
        if (!(again instanceof MqttDecodeError) || again.code !== "DECODER_FAILED") {
          return `after ${e.code}, push threw ${String(again)} instead of DECODER_FAILED`;
        }
      }
      return undefined;
    }
    if (decoder.bufferedBytes > maxPacketSize) {
      return `bufferedBytes ${decoder.bufferedBytes} > maxPacketSize ${maxPacketSize}`;
    }
    if (decoder.bufferedBytes > pushed) {
      return `bufferedBytes ${decoder.bufferedBytes} > ${pushed} pushed`;
    }
    if (pos >= input.length) break;
  }
  // Whatever was accepted must be a valid packet: it re-encodes and decodes back to itself.
  let level = version;
  for (const p of decoded) {
    if (p.type === "connect") level = p.protocolVersion;
    // A level-5 decoder reads a server's 3.1.1-style refusal (2-byte CONNACK with a
    // return code 1..5) so the client can fall back; that packet is a level-4 one.
    const legacy = level === 5 && p.type === "connack" && !CONNACK_V5.includes(p.reasonCode);
    const v = legacy ? 4 : level;
    const violation = packetViolation(p, v);
    if (violation !== undefined) {
      return `decoder accepted a packet the specification forbids (${violation}): ${
        describePacket(p)
      }`;
    }
    // A 3.1 CONNECT without client id is well-formed: the server answers it with CONNACK
    // return code 2 (MQTT 3.1 §3.1), while a client must not send it, so encode() refuses it.
    if (p.type === "connect" && p.protocolVersion === 3 && p.clientId === "") continue;
    try {
      const bytes = engine.encode(p, { protocolVersion: v });
      checker.reset();
      checker.protocolVersion = v;
      const again = checker.push(bytes);
      if (
        again.length !== 1 ||
        !isDeepStrictEqual(normalizePacket(again[0]!, v), normalizePacket(p, v))
      ) {
        return `decoded packet does not survive encode/decode: ${describePacket(p)} -> ${
          describePacket(again)
        }`;
      }
    } catch (e) {
      return `decoder accepted a packet the encoder refuses (${String(e)}): ${describePacket(p)}`;
    }
  }
  return undefined;
}

for (const engine of engines) {
  Deno.test(`MqttDecoder.push() throws only MqttDecodeError on ${ITERATIONS} fuzzed inputs (${engineLabel(engine)} engine)`, () => {
    const rng = new Prng(SEED);
    const pools = new Map(VERSIONS.map((v) => [v, corpus(engine, v)]));
    const decoders = VERSIONS.flatMap((v) => [
      { v, max: DEFAULT_MAX, d: engine.createDecoder({ protocolVersion: v }) },
      {
        v,
        max: SMALL_MAX,
        d: engine.createDecoder({ protocolVersion: v, maxPacketSize: SMALL_MAX }),
      },
    ]);
    const checker = engine.createDecoder();
    const failures: Outcome[] = [];
    let errors = 0;
    for (let i = 0; i < ITERATIONS; i++) {
      const { v, max, d } = decoders[i % decoders.length]!;
      const input = mutate(rng, pools.get(v)!);
      const failure = feed(engine, checker, d, max, v, input, rng);
      if (d.failed) errors++;
      if (failure !== undefined) {
        failures.push({ input, failure: `level ${v}, maxPacketSize ${max}: ${failure}` });
        if (failures.length >= 10) break;
      }
    }
    if (failures.length > 0) {
      assert.fail(
        `${failures.length} fuzz failure(s) (seed ${SEED}):\n` +
          failures.map((f) => `  input ${toHex(f.input, 120)}\n    ${f.failure}`).join("\n"),
      );
    }
    // The fuzzer must actually reach the error paths, and not only them.
    assert.ok(errors > ITERATIONS / 4, `only ${errors} inputs were refused`);
    assert.ok(errors < ITERATIONS, "every input was refused");
  });
}
