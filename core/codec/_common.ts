/**
 * Shared validation and writing helpers for the per-packet encoders and
 * decoders.
 *
 * @module
 */

import type { Properties, ProtocolVersion } from "./types.ts";
import { isAllowedReasonCode } from "./constants.ts";
import type { Reader } from "./_bytes.ts";
import { utf8Length, writeUtf8 } from "./_utf8.ts";
import { propertiesBlockLength, propertiesLength, writeProperties } from "./properties.ts";
import { readPropertiesInto } from "./_read_properties.ts";

/** Throws `TypeError("Cannot encode WHERE: MESSAGE")`. */
export function typeFail(where: string, message: string): never {
  throw new TypeError(`Cannot encode ${where}: ${message}`);
}

/** Throws `RangeError("Cannot encode WHERE: MESSAGE")`. */
export function rangeFail(where: string, message: string): never {
  throw new RangeError(`Cannot encode ${where}: ${message}`);
}

/** Validates an integer field in `min..max`. */
export function checkInt(where: string, field: string, v: unknown, min: number, max: number) {
  if (typeof v !== "number" || !Number.isInteger(v)) typeFail(where, `${field} must be an integer`);
  if (v < min || v > max) rangeFail(where, `${field} must be ${min}..${max}`);
}

/**
 * Validates a packet identifier (1..65535) [MQTT-2.3.1-1]. `qos` only
 * extends the message ("for QoS 1"); nothing is built on success.
 */
export function checkPacketId(where: string, id: unknown, qos?: number) {
  if (typeof id !== "number" || !Number.isInteger(id) || id < 1 || id > 65_535) {
    const text = `packetId must be 1..65535${qos === undefined ? "" : ` for QoS ${qos}`}`;
    if (typeof id === "number" || id === undefined) rangeFail(where, text);
    typeFail(where, text);
  }
}

/** Validates a boolean field. */
export function checkBool(where: string, field: string, v: unknown) {
  if (typeof v !== "boolean") typeFail(where, `${field} must be a boolean`);
}

/** Validates a QoS field (0, 1 or 2). */
export function checkQos(where: string, field: string, v: unknown) {
  if (v !== 0 && v !== 1 && v !== 2) {
    if (typeof v === "number") rangeFail(where, `${field} must be 0, 1 or 2`);
    typeFail(where, `${field} must be 0, 1 or 2`);
  }
}

/** Validated UTF-8 byte length of a string field (without the 2-byte prefix). */
export function stringLength(where: string, field: string, s: unknown): number {
  if (typeof s !== "string") typeFail(where, `${field} must be a string`);
  const n = utf8Length(s);
  if (n < 0) typeFail(where, `${field} must be well-formed UTF-16 without U+0000`);
  if (n > 65_535) rangeFail(where, `${field} must be at most 65535 UTF-8 bytes`);
  return n;
}

/** Validated length of a binary field (without the 2-byte prefix). */
export function binaryLength(where: string, field: string, b: unknown): number {
  if (!(b instanceof Uint8Array)) typeFail(where, `${field} must be a Uint8Array`);
  if (b.length > 65_535) rangeFail(where, `${field} must be at most 65535 bytes`);
  return b.length;
}

/** Writes a string with its 2-byte length prefix (computed while writing). */
export function writeString(buf: Uint8Array, pos: number, s: string): number {
  const end = writeUtf8(buf, pos + 2, s);
  const n = end - pos - 2;
  buf[pos] = n >>> 8;
  buf[pos + 1] = n & 0xff;
  return end;
}

/** Validates a reason code for packet type `typeId` on `version`. */
export function checkReasonCode(
  where: string,
  typeId: number,
  code: unknown,
  version: ProtocolVersion,
  field = "reasonCode",
) {
  checkInt(where, field, code, 0, 255);
  if (!isAllowedReasonCode(typeId, code as number, version)) {
    rangeFail(where, `${field} 0x${(code as number).toString(16)} is not allowed`);
  }
}

/**
 * Validates a non-empty list of reason codes for `typeId` (SUBACK,
 * UNSUBACK); returns how many there are. `suffix` extends the message for
 * a missing list.
 */
export function checkReasonCodes(
  where: string,
  typeId: number,
  codes: unknown,
  version: ProtocolVersion,
  suffix = "",
): number {
  if (!Array.isArray(codes) || codes.length === 0) {
    typeFail(where, `reasonCodes must be a non-empty array${suffix}`);
  }
  for (let i = 0; i < codes.length; i++) {
    checkReasonCode(where, typeId, codes[i], version, `reasonCodes[${i}]`);
  }
  return codes.length;
}

/**
 * Length of the MQTT 5 "reason code, then properties" tail shared by the
 * acknowledgements, DISCONNECT and AUTH, validating it: 0 for reason code 0
 * without properties, `minWithCode` for another code without properties.
 * `minWithCode` is 1, except 2 for AUTH (whose 1-byte form the spec does
 * not define). Before MQTT 5 there is no tail.
 */
export function reasonTailLength(
  p: { reasonCode?: number; properties?: Properties },
  typeId: number,
  where: string,
  version: ProtocolVersion,
  minWithCode: number,
): number {
  if (version < 5) return 0;
  const code = p.reasonCode ?? 0;
  checkReasonCode(where, typeId, code, version);
  if (hasProperties(p.properties)) return 1 + propertyBlockSize(p.properties, typeId, where);
  return code === 0 ? 0 : minWithCode;
}

/** Writes a tail sized by {@linkcode reasonTailLength}; returns the position after it. */
export function writeReasonTail(
  p: { reasonCode?: number; properties?: Properties },
  typeId: number,
  where: string,
  buf: Uint8Array,
  pos: number,
  tailLength: number,
): number {
  if (tailLength > 0) buf[pos++] = p.reasonCode ?? 0;
  if (tailLength > 1) {
    pos = writeProperties(buf, pos, p.properties, propertiesLength(p.properties, typeId, where));
  }
  return pos;
}

/**
 * Reads the reason code (0 when omitted) and properties tail into `out` on
 * MQTT 5, then checks the packet ends.
 */
export function readReasonTail<T extends { reasonCode?: number; properties?: Properties }>(
  r: Reader,
  typeId: number,
  version: ProtocolVersion,
  out: T,
): T {
  if (version === 5) {
    out.reasonCode = r.left > 0 ? readReasonCode(r, typeId, version) : 0;
    if (r.left > 0) readPropertiesInto(r, typeId, out);
  }
  expectEnd(r);
  return out;
}

/** Size of a property block (with prefix), validating it for `typeId`. */
export function propertyBlockSize(
  props: Properties | undefined,
  typeId: number,
  where: string,
): number {
  return propertiesBlockLength(propertiesLength(props, typeId, where));
}

/**
 * Writes `p.packetId`, then on MQTT 5 the property block of `typeId`
 * (SUBSCRIBE, SUBACK, UNSUBSCRIBE, UNSUBACK); returns the position after it.
 */
export function writeIdAndProperties(
  p: { packetId: number; properties?: Properties },
  typeId: number,
  where: string,
  buf: Uint8Array,
  pos: number,
  version: ProtocolVersion,
): number {
  buf[pos++] = p.packetId >>> 8;
  buf[pos++] = p.packetId & 0xff;
  if (version < 5) return pos;
  return writeProperties(buf, pos, p.properties, propertiesLength(p.properties, typeId, where));
}

/** Tells whether a properties object has at least one defined value. */
function hasProperties(props: Properties | undefined): boolean {
  if (props === undefined) return false;
  for (const key in props) {
    if ((props as Record<string, unknown>)[key] !== undefined) return true;
  }
  return false;
}

/** Reads and validates a non-zero packet identifier. [MQTT-2.3.1-1] */
export function readPacketId(r: Reader): number {
  const at = r.pos;
  const id = r.u16("packet identifier");
  if (id === 0) r.fail("INVALID_PACKET_ID", "packet identifier must not be 0", at);
  return id;
}

/** Reads a reason code and checks it is allowed for `typeId` on `version`. */
function readReasonCode(r: Reader, typeId: number, version: number): number {
  const at = r.pos;
  const code = r.u8("reason code");
  if (!isAllowedReasonCode(typeId, code, version)) {
    r.fail("INVALID_REASON_CODE", `reason code 0x${code.toString(16)} is not allowed`, at);
  }
  return code;
}

/** Reads a non-empty list of reason codes up to the end of the packet. */
export function readReasonCodes(r: Reader, typeId: number, version: number): number[] {
  if (r.left === 0) r.fail("MALFORMED_PACKET", "there are no reason codes");
  const codes: number[] = [];
  while (r.left > 0) codes.push(readReasonCode(r, typeId, version));
  return codes;
}

/** Ensures the reader consumed exactly the packet. */
export function expectEnd(r: Reader) {
  if (r.pos !== r.end) {
    r.fail("LENGTH_MISMATCH", `${r.end - r.pos} bytes follow the end of the packet`);
  }
}

/** Quotes network-supplied text for a message, cut to 64 characters. */
export function quote(s: string): string {
  return JSON.stringify(s.length > 64 ? `${s.slice(0, 64)}…` : s);
}
