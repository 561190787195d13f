/**
 * Encoding entry points: size a packet, encode it into caller memory, or
 * encode it into a new array.
 *
 * @module
 */

import type { EncodeOptions, Packet, ProtocolVersion } from "./types.ts";
import { MAX_REMAINING_LENGTH } from "./constants.ts";
import { varintLength } from "./_bytes.ts";
import { rangeFail, typeFail } from "./_common.ts";
import { connectRemainingLength, writeConnect } from "./connect.ts";
import { connackRemainingLength, writeConnack } from "./connack.ts";
import { publishRemainingLength, writePublish } from "./publish.ts";
import { ackRemainingLength, writeAck } from "./ack.ts";
import { subscribeRemainingLength, writeSubscribe } from "./subscribe.ts";
import { subackRemainingLength, writeSuback } from "./suback.ts";
import { unsubscribeRemainingLength, writeUnsubscribe } from "./unsubscribe.ts";
import { unsubackRemainingLength, writeUnsuback } from "./unsuback.ts";
import { writePing } from "./ping.ts";
import { disconnectRemainingLength, writeDisconnect } from "./disconnect.ts";
import { authRemainingLength, writeAuth } from "./auth.ts";
import { allocate } from "../_slab.ts";

function versionOf(options: EncodeOptions | undefined): ProtocolVersion {
  const v = options?.protocolVersion ?? 4;
  if (v !== 3 && v !== 4 && v !== 5) {
    throw new RangeError(`Cannot encode packet: protocolVersion must be 3, 4 or 5`);
  }
  return v;
}

/** Remaining length of `p`, validating it (dispatch on `type`). */
function remainingLength(p: Packet, v: ProtocolVersion): number {
  if (typeof p !== "object" || p === null) typeFail("packet", "packet must be an object");
  let n: number;
  switch (p.type) {
    case "publish":
      n = publishRemainingLength(p, v);
      break;
    case "connect":
      n = connectRemainingLength(p);
      break;
    case "connack":
      n = connackRemainingLength(p, v);
      break;
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      n = ackRemainingLength(p, v);
      break;
    case "subscribe":
      n = subscribeRemainingLength(p, v);
      break;
    case "suback":
      n = subackRemainingLength(p, v);
      break;
    case "unsubscribe":
      n = unsubscribeRemainingLength(p, v);
      break;
    case "unsuback":
      n = unsubackRemainingLength(p, v);
      break;
    case "pingreq":
    case "pingresp":
      return 0;
    case "disconnect":
      n = disconnectRemainingLength(p, v);
      break;
    case "auth":
      n = authRemainingLength(p, v);
      break;
    default:
      return typeFail("packet", `unknown type ${JSON.stringify((p as { type: unknown }).type)}`);
  }
  return checkSize(p, n);
}

/** Returns remaining length `n` of `p` after checking it is encodable. */
function checkSize(p: Packet, n: number): number {
  if (n > MAX_REMAINING_LENGTH) {
    rangeFail(p.type.toUpperCase(), `packet of ${n} bytes exceeds ${MAX_REMAINING_LENGTH} bytes`);
  }
  return n;
}

function write(p: Packet, buf: Uint8Array, pos: number, rem: number, v: ProtocolVersion): number {
  switch (p.type) {
    case "publish":
      return writePublish(p, buf, pos, rem, v);
    case "connect":
      return writeConnect(p, buf, pos, rem);
    case "connack":
      return writeConnack(p, buf, pos, rem, v);
    case "puback":
    case "pubrec":
    case "pubrel":
    case "pubcomp":
      return writeAck(p, buf, pos, rem);
    case "subscribe":
      return writeSubscribe(p, buf, pos, rem, v);
    case "suback":
      return writeSuback(p, buf, pos, rem, v);
    case "unsubscribe":
      return writeUnsubscribe(p, buf, pos, rem, v);
    case "unsuback":
      return writeUnsuback(p, buf, pos, rem, v);
    case "pingreq":
    case "pingresp":
      return writePing(p, buf, pos);
    case "disconnect":
      return writeDisconnect(p, buf, pos, rem);
    case "auth":
      return writeAuth(p, buf, pos, rem);
  }
}

/**
 * Number of bytes `packet` encodes to, after validating it. Use it to size a
 * buffer for {@linkcode encodeInto}.
 *
 * @param packet The packet to size.
 * @param options Protocol level for packets other than CONNECT (default 4).
 * @returns The whole packet's size: fixed header plus remaining length.
 * @throws {TypeError | RangeError} naming the invalid field.
 *
 * @example Sizing a PUBLISH
 * ```ts
 * import { encodedLength } from "@tbwasm/sdk/codec";
 * const n = encodedLength({
 *   type: "publish", topic: "a/b", payload: new Uint8Array(10), qos: 0, retain: false, dup: false,
 * });
 * console.log(n); // 17
 * ```
 */
export function encodedLength(packet: Packet, options?: EncodeOptions): number {
  const rem = remainingLength(packet, versionOf(options));
  return 1 + varintLength(rem) + rem;
}

/**
 * Encodes `packet` into `buffer` at `offset` without allocating; returns the
 * number of bytes written.
 *
 * @param packet The packet to encode.
 * @param buffer Destination memory.
 * @param offset Where the packet starts in `buffer`.
 * @param options Protocol level for packets other than CONNECT (default 4).
 * @returns Bytes written.
 * @throws {TypeError | RangeError} naming the invalid field, or a
 * `RangeError` when the packet does not fit (nothing is written then).
 *
 * @example Encoding into a reusable buffer
 * ```ts
 * import { encodeInto } from "@tbwasm/sdk/codec";
 * const buffer = new Uint8Array(1024);
 * const n = encodeInto({ type: "pingreq" }, buffer, 0);
 * console.log(buffer.subarray(0, n)); // Uint8Array(2) [ 192, 0 ]
 * ```
 */
export function encodeInto(
  packet: Packet,
  buffer: Uint8Array,
  offset: number,
  options?: EncodeOptions,
): number {
  const v = versionOf(options);
  // PUBLISH, the hot path, skips the dispatch on `type` (twice).
  const publish = typeof packet === "object" && packet !== null && packet.type === "publish";
  const rem = publish
    ? checkSize(packet, publishRemainingLength(packet, v))
    : remainingLength(packet, v);
  const total = 1 + varintLength(rem) + rem;
  if (!(buffer instanceof Uint8Array)) typeFail("packet", "buffer must be a Uint8Array");
  if (!Number.isInteger(offset) || offset < 0) {
    throw new RangeError("Cannot encode packet: offset must be a non-negative integer");
  }
  if (offset + total > buffer.length) {
    const name = packet.type.toUpperCase();
    throw new RangeError(
      `Cannot encode ${name}: needs ${total} bytes, ${
        Math.max(0, buffer.length - offset)
      } available; size the buffer with encodedLength()`,
    );
  }
  if (publish) return writePublish(packet, buffer, offset, rem, v) - offset;
  return write(packet, buffer, offset, rem, v) - offset;
}

/**
 * Encodes `packet` into a new `Uint8Array` of exactly its size.
 *
 * @param packet The packet to encode.
 * @param options Protocol level for packets other than CONNECT (default 4).
 * @returns The encoded packet. Packets up to 8 KiB are views of a shared
 * 64 KiB slab (as Node's `Buffer` pool does), so encoding allocates no
 * `ArrayBuffer` per packet: use `byteOffset`/`byteLength` with `.buffer`.
 * @throws {TypeError | RangeError} naming the invalid field.
 *
 * @example
 * ```ts
 * import { encode } from "@tbwasm/sdk/codec";
 * const bytes = encode({ type: "puback", packetId: 1 }, { protocolVersion: 5 });
 * console.log(bytes); // Uint8Array(4) [ 64, 2, 0, 1 ]
 * ```
 */
export function encode(packet: Packet, options?: EncodeOptions): Uint8Array {
  const v = versionOf(options);
  const rem = remainingLength(packet, v);
  const buf = allocate(1 + varintLength(rem) + rem);
  write(packet, buf, 0, rem, v);
  return buf;
}
