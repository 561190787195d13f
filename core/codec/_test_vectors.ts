/**
 * Test helpers: table-driven vectors (packet ⇄ bytes) run through every
 * entry point (encode, encodeInto, encodedLength, decodePacket and the
 * streaming decoder byte by byte). Not part of the public API.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Packet, ProtocolVersion } from "./types.ts";
import { MqttDecodeError, type MqttDecodeErrorCode } from "./errors.ts";
import { encode, encodedLength, encodeInto } from "./encode.ts";
import { MqttDecoder } from "./decoder.ts";
import { decodePacket } from "./decode_packet.ts";

/** Parses "30 02 00 01" (spaces optional) into bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Formats bytes as "30 02 00 01". */
export function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** ASCII/UTF-8 text as bytes. */
export function utf8(s: string): Uint8Array {
  return new TextEncoder().encode(s);
}

export { concat } from "./_bytes.ts";

/** A packet and its exact encoding; valid in both directions. */
export interface RoundTrip {
  name: string;
  version: ProtocolVersion;
  packet: Packet;
  bytes: string;
}

/** Bytes that decode to `packet` but are not what the encoder writes. */
export interface DecodeOnly {
  name: string;
  version: ProtocolVersion;
  bytes: string;
  packet: Packet;
}

/** Bytes that must be rejected with `code` at stream `offset`. */
export interface Rejected {
  name: string;
  version: ProtocolVersion;
  bytes: string;
  code: MqttDecodeErrorCode;
  offset?: number;
  message?: RegExp;
}

/** A packet the encoder must refuse. */
export interface EncodeRejected {
  name: string;
  version: ProtocolVersion;
  packet: unknown;
  error: typeof TypeError | typeof RangeError;
  message: RegExp;
}

function decodeStream(bytes: Uint8Array, version: ProtocolVersion): Packet[] {
  const decoder = new MqttDecoder({ protocolVersion: version });
  const out: Packet[] = [];
  for (let i = 0; i < bytes.length; i++) out.push(...decoder.push(bytes.subarray(i, i + 1)));
  assert.equal(decoder.bufferedBytes, 0);
  return out;
}

/** Registers one Deno test per round-trip vector. */
export function testRoundTrips(prefix: string, vectors: RoundTrip[]) {
  for (const v of vectors) {
    Deno.test(`${prefix} ${v.name} (level ${v.version})`, () => {
      const expected = hex(v.bytes);
      const options = { protocolVersion: v.version };
      assert.equal(toHex(encode(v.packet, options)), toHex(expected));
      assert.equal(encodedLength(v.packet, options), expected.length);
      const buf = new Uint8Array(expected.length + 3).fill(0xee);
      assert.equal(encodeInto(v.packet, buf, 2, options), expected.length);
      assert.equal(toHex(buf.subarray(2, 2 + expected.length)), toHex(expected));
      assert.equal(buf[1], 0xee);
      assert.equal(buf[expected.length + 2], 0xee);
      assert.deepEqual(decodePacket(expected, options), v.packet);
      assert.deepEqual(decodeStream(expected, v.version), [v.packet]);
    });
  }
}

/** Registers one Deno test per decode-only vector. */
export function testDecodes(prefix: string, vectors: DecodeOnly[]) {
  for (const v of vectors) {
    Deno.test(`${prefix} ${v.name} (level ${v.version})`, () => {
      const bytes = hex(v.bytes);
      assert.deepEqual(decodePacket(bytes, { protocolVersion: v.version }), v.packet);
      assert.deepEqual(decodeStream(bytes, v.version), [v.packet]);
    });
  }
}

/** Asserts `fn` throws an MqttDecodeError with `code` (and `offset`). */
export function assertDecodeError(
  fn: () => unknown,
  code: MqttDecodeErrorCode,
  offset?: number,
  message?: RegExp,
): MqttDecodeError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof MqttDecodeError, `expected MqttDecodeError, got ${caught}`);
  assert.equal(caught.code, code, caught.message);
  if (offset !== undefined) assert.equal(caught.offset, offset, caught.message);
  if (message !== undefined) assert.match(caught.message, message);
  assert.match(caught.message, /^Cannot decode [A-Za-z]+: .*[^.]$/);
  return caught;
}

/** Registers one Deno test per rejected-bytes vector (whole and byte by byte). */
export function testRejects(prefix: string, vectors: Rejected[]) {
  for (const v of vectors) {
    Deno.test(`${prefix} ${v.name} (level ${v.version})`, () => {
      const bytes = hex(v.bytes);
      const options = { protocolVersion: v.version };
      assertDecodeError(() => decodePacket(bytes, options), v.code, v.offset, v.message);
      const decoder = new MqttDecoder(options);
      assertDecodeError(() => decoder.push(bytes), v.code, v.offset, v.message);
      assert.equal(decoder.failed, true);
      assertDecodeError(() => decoder.push(new Uint8Array([0xc0, 0])), "DECODER_FAILED");
      const slow = new MqttDecoder(options);
      assertDecodeError(
        () => {
          for (let i = 0; i < bytes.length; i++) slow.push(bytes.subarray(i, i + 1));
        },
        v.code,
        v.offset,
        v.message,
      );
    });
  }
}

/** Registers one Deno test per packet the encoder must refuse. */
export function testEncodeRejects(prefix: string, vectors: EncodeRejected[]) {
  for (const v of vectors) {
    Deno.test(`${prefix} ${v.name} (level ${v.version})`, () => {
      const options = { protocolVersion: v.version };
      const p = v.packet as Packet;
      assert.throws(() => encode(p, options), (e: unknown) => {
        assert.ok(e instanceof v.error, `expected ${v.error.name}, got ${e}`);
        assert.match((e as Error).message, v.message);
        assert.match((e as Error).message, /^Cannot encode [A-Za-z]+: .*[^.]$/);
        return true;
      });
      assert.throws(() => encodedLength(p, options), v.error);
      const buf = new Uint8Array(64);
      assert.throws(() => encodeInto(p, buf, 0, options), v.error);
      assert.ok(buf.every((b) => b === 0), "encodeInto wrote before failing");
    });
  }
}
