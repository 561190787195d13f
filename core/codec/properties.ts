/**
 * MQTT 5 properties: the property table (id, value type, packets allowed),
 * sizing and writing. Reading is in `_read_properties.ts`. Section 2.2.2 of
 * MQTT 5.
 *
 * @module
 */

import type { Properties } from "./types.ts";
import { PacketType } from "./constants.ts";
import { varintLength, writeBinary, writeU16, writeU32, writeVarint } from "./_bytes.ts";
import { utf8Length, writeUtf8 } from "./_utf8.ts";
import { isValidTopicName } from "./topic.ts";

/** Pseudo packet type id for Will Properties in the allowed-packet masks. */
export const WILL_PROPERTIES = 0;

type Kind = "bool" | "byte" | "u16" | "u32" | "varint" | "string" | "binary" | "pair";

export interface PropertyDef {
  id: number;
  key: keyof Properties;
  kind: Kind;
  /** Bit `1 << typeId` set for each packet type allowed; bit 0 = Will Properties. */
  allowed: number;
  /** Index of the bit in the duplicate mask. */
  bit: number;
}

const T = PacketType;
const bit = (...ids: number[]) => ids.reduce((m, id) => m | (1 << id), 0);
const ALL = bit(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 15);
const REASON_STRING = bit(
  T.Connack,
  T.Puback,
  T.Pubrec,
  T.Pubrel,
  T.Pubcomp,
  T.Suback,
  T.Unsuback,
  T.Disconnect,
  T.Auth,
);
const MSG = bit(WILL_PROPERTIES, T.Publish);

const TABLE: [number, keyof Properties, Kind, number][] = [
  [0x01, "payloadFormatIndicator", "bool", MSG],
  [0x02, "messageExpiryInterval", "u32", MSG],
  [0x03, "contentType", "string", MSG],
  [0x08, "responseTopic", "string", MSG],
  [0x09, "correlationData", "binary", MSG],
  [0x0b, "subscriptionIdentifiers", "varint", bit(T.Publish, T.Subscribe)],
  [0x11, "sessionExpiryInterval", "u32", bit(T.Connect, T.Connack, T.Disconnect)],
  [0x12, "assignedClientIdentifier", "string", bit(T.Connack)],
  [0x13, "serverKeepAlive", "u16", bit(T.Connack)],
  [0x15, "authenticationMethod", "string", bit(T.Connect, T.Connack, T.Auth)],
  [0x16, "authenticationData", "binary", bit(T.Connect, T.Connack, T.Auth)],
  [0x17, "requestProblemInformation", "bool", bit(T.Connect)],
  [0x18, "willDelayInterval", "u32", bit(WILL_PROPERTIES)],
  [0x19, "requestResponseInformation", "bool", bit(T.Connect)],
  [0x1a, "responseInformation", "string", bit(T.Connack)],
  [0x1c, "serverReference", "string", bit(T.Connack, T.Disconnect)],
  [0x1f, "reasonString", "string", REASON_STRING],
  [0x21, "receiveMaximum", "u16", bit(T.Connect, T.Connack)],
  [0x22, "topicAliasMaximum", "u16", bit(T.Connect, T.Connack)],
  [0x23, "topicAlias", "u16", bit(T.Publish)],
  [0x24, "maximumQoS", "byte", bit(T.Connack)],
  [0x25, "retainAvailable", "bool", bit(T.Connack)],
  [0x26, "userProperties", "pair", ALL],
  [0x27, "maximumPacketSize", "u32", bit(T.Connect, T.Connack)],
  [0x28, "wildcardSubscriptionAvailable", "bool", bit(T.Connack)],
  [0x29, "subscriptionIdentifiersAvailable", "bool", bit(T.Connack)],
  [0x2a, "sharedSubscriptionAvailable", "bool", bit(T.Connack)],
];

/** The property definitions in ascending id order (the order they are written in). */
export const PROPERTIES: readonly PropertyDef[] = TABLE.map(([id, key, kind, allowed], i) => ({
  id,
  key,
  kind,
  allowed,
  bit: i,
}));

const BY_ID: (PropertyDef | undefined)[] = [];
for (const def of PROPERTIES) BY_ID[def.id] = def;

/** The definition of property `id`, if it exists. */
export function propertyById(id: number): PropertyDef | undefined {
  return BY_ID[id];
}

/** Tells whether property `id` may appear on packet type `typeId` (0 = will). */
export function isPropertyAllowed(id: number, typeId: number): boolean {
  const def = BY_ID[id];
  return def !== undefined && (def.allowed & (1 << typeId)) !== 0;
}

function fail(where: string, key: string, message: string, range = false): never {
  const text = `Cannot encode ${where}: property ${key} ${message}`;
  throw range ? new RangeError(text) : new TypeError(text);
}

function checkInt(where: string, key: string, v: unknown, min: number, max: number): number {
  if (typeof v !== "number" || !Number.isInteger(v)) fail(where, key, "must be an integer");
  if (v < min || v > max) fail(where, key, `must be ${min}..${max}`, true);
  return v;
}

function checkString(where: string, key: string, v: unknown): number {
  if (typeof v !== "string") fail(where, key, "must be a string");
  const n = utf8Length(v);
  if (n < 0) fail(where, key, "must be well-formed UTF-16 without U+0000");
  if (n > 65_535) fail(where, key, "must be at most 65535 UTF-8 bytes", true);
  return n;
}

/** Byte length of one value of `def` (without the id byte), validating it. */
function valueLength(def: PropertyDef, v: unknown, where: string): number {
  const key = def.key;
  switch (def.kind) {
    case "bool":
      if (typeof v !== "boolean") fail(where, key, "must be a boolean");
      return 1;
    case "byte":
      checkInt(where, key, v, 0, 1);
      return 1;
    case "u16":
      // Receive Maximum and Topic Alias 0 are protocol errors [MQTT-3.3.2-8].
      checkInt(
        where,
        key,
        v,
        key === "topicAliasMaximum" || key === "serverKeepAlive" ? 0 : 1,
        65_535,
      );
      return 2;
    case "u32":
      checkInt(where, key, v, key === "maximumPacketSize" ? 1 : 0, 4_294_967_295);
      return 4;
    case "varint":
      return varintLength(checkInt(where, key, v, 1, 268_435_455));
    case "string": {
      const n = checkString(where, key, v) + 2;
      if (key === "responseTopic" && !isValidTopicName(v as string)) {
        fail(where, key, "must be a topic name without wildcards"); // [MQTT-3.3.2-14]
      }
      return n;
    }
    case "binary":
      if (!(v instanceof Uint8Array)) fail(where, key, "must be a Uint8Array");
      if (v.length > 65_535) fail(where, key, "must be at most 65535 bytes", true);
      return v.length + 2;
    case "pair": {
      if (!Array.isArray(v) || v.length !== 2) {
        fail(where, key, "entries must be [name, value] pairs");
      }
      return checkString(where, key, v[0]) + checkString(where, key, v[1]) + 4;
    }
  }
}

/**
 * Length of the property block's content (without its length prefix) for
 * packet type `typeId` (0 = will), validating every value.
 *
 * @throws {TypeError | RangeError} naming the property.
 */
export function propertiesLength(
  props: Properties | undefined,
  typeId: number,
  where: string,
): number {
  if (props === undefined) return 0;
  let n = 0;
  for (const def of PROPERTIES) {
    const v = props[def.key];
    if (v === undefined) continue;
    if ((def.allowed & (1 << typeId)) === 0) fail(where, def.key, "is not allowed");
    if (def.kind === "pair" || def.kind === "varint") {
      if (!Array.isArray(v)) fail(where, def.key, "must be an array");
      if (def.kind === "varint" && typeId === PacketType.Subscribe && v.length > 1) {
        fail(where, def.key, "may hold only one identifier on SUBSCRIBE", true);
      }
      for (const item of v) n += 1 + valueLength(def, item, where);
    } else {
      n += 1 + valueLength(def, v, where);
    }
  }
  if (props.authenticationData !== undefined && props.authenticationMethod === undefined) {
    fail(where, "authenticationData", "requires authenticationMethod"); // MQTT 5 3.1.2.11.10
  }
  return n;
}

/** Total bytes of a property block: length prefix plus `contentLength`. */
export function propertiesBlockLength(contentLength: number): number {
  return varintLength(contentLength) + contentLength;
}

function writeString(buf: Uint8Array, pos: number, s: string): number {
  const end = writeUtf8(buf, pos + 2, s);
  writeU16(buf, pos, end - pos - 2);
  return end;
}

function writeValue(buf: Uint8Array, pos: number, def: PropertyDef, v: unknown): number {
  buf[pos++] = def.id;
  switch (def.kind) {
    case "bool":
      buf[pos] = v ? 1 : 0;
      return pos + 1;
    case "byte":
      buf[pos] = v as number;
      return pos + 1;
    case "u16":
      return writeU16(buf, pos, v as number);
    case "u32":
      return writeU32(buf, pos, v as number);
    case "varint":
      return writeVarint(buf, pos, v as number);
    case "string":
      return writeString(buf, pos, v as string);
    case "binary":
      return writeBinary(buf, pos, v as Uint8Array);
    case "pair": {
      const [name, value] = v as [string, string];
      return writeString(buf, writeString(buf, pos, name), value);
    }
  }
}

/**
 * Writes the property block (length prefix + properties, ascending id order,
 * user properties in their given order). `contentLength` comes from
 * {@linkcode propertiesLength}.
 */
export function writeProperties(
  buf: Uint8Array,
  pos: number,
  props: Properties | undefined,
  contentLength: number,
): number {
  pos = writeVarint(buf, pos, contentLength);
  if (props === undefined || contentLength === 0) return pos;
  for (const def of PROPERTIES) {
    const v = props[def.key];
    if (v === undefined) continue;
    if (def.kind === "pair" || def.kind === "varint") {
      for (const item of v as unknown[]) pos = writeValue(buf, pos, def, item);
    } else {
      pos = writeValue(buf, pos, def, v);
    }
  }
  return pos;
}
