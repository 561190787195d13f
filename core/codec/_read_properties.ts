/**
 * Strict reading of an MQTT 5 property block.
 *
 * @module
 */

import type { Properties, UserProperty } from "./types.ts";
import { PacketType } from "./constants.ts";
import type { Reader } from "./_bytes.ts";
import { propertyById } from "./properties.ts";
import { isValidTopicName } from "./topic.ts";

function hex(id: number): string {
  return `0x${id.toString(16).padStart(2, "0")}`;
}

/**
 * Reads a property block (length prefix included) for packet type `typeId`
 * (0 = Will Properties). Returns `undefined` for an empty block.
 *
 * Rejects (INVALID_PROPERTY) unknown ids, properties not allowed on the
 * packet, duplicates (except User Property, and Subscription Identifier on
 * PUBLISH), and values the specification calls a protocol error.
 */
export function readProperties(r: Reader, typeId: number): Properties | undefined {
  const length = r.varint("property length");
  if (length === 0) return undefined;
  if (length > r.left) r.fail("LENGTH_MISMATCH", "property length runs past the end of the packet");
  const outerEnd = r.end;
  r.end = r.pos + length;
  const props: Properties = {};
  let seen = 0;
  while (r.pos < r.end) {
    const at = r.pos;
    const id = r.u8("property id"); // all defined ids fit in one byte of the variable byte integer
    const def = propertyById(id);
    if (def === undefined) r.fail("INVALID_PROPERTY", `unknown property ${hex(id)}`, at);
    const key = def.key;
    if ((def.allowed & (1 << typeId)) === 0) {
      r.fail("INVALID_PROPERTY", `property ${key} is not allowed`, at);
    }
    const repeatable = def.kind === "pair" ||
      (def.kind === "varint" && typeId === PacketType.Publish);
    if (!repeatable && (seen & (1 << def.bit)) !== 0) {
      r.fail("INVALID_PROPERTY", `property ${key} appears more than once`, at);
    }
    seen |= 1 << def.bit;
    const what = `property ${key}`;
    switch (def.kind) {
      case "bool":
      case "byte": {
        const v = r.u8(what);
        // Every byte-valued property is 0 or 1; other values are a protocol error.
        if (v > 1) r.fail("INVALID_PROPERTY", `property ${key} must be 0 or 1`, at);
        if (def.kind === "bool") (props as Record<string, unknown>)[key] = v === 1;
        else props.maximumQoS = v as 0 | 1;
        break;
      }
      case "u16": {
        const v = r.u16(what);
        if (v === 0 && (key === "receiveMaximum" || key === "topicAlias")) {
          // Receive Maximum 0 [3.1.2.11.3] and Topic Alias 0 [MQTT-3.3.2-8] are protocol errors.
          r.fail("INVALID_PROPERTY", `property ${key} must not be 0`, at);
        }
        (props as Record<string, unknown>)[key] = v;
        break;
      }
      case "u32": {
        const v = r.u32(what);
        if (v === 0 && key === "maximumPacketSize") {
          r.fail("INVALID_PROPERTY", `property ${key} must not be 0`, at);
        }
        (props as Record<string, unknown>)[key] = v;
        break;
      }
      case "varint": {
        const v = r.varint(what);
        if (v === 0) r.fail("INVALID_PROPERTY", `property ${key} must not be 0`, at);
        (props.subscriptionIdentifiers ??= []).push(v);
        break;
      }
      case "string": {
        const v = r.utf8(what);
        if (key === "responseTopic" && !isValidTopicName(v)) {
          // [MQTT-3.3.2-14] the Response Topic is a topic name.
          r.fail("INVALID_PROPERTY", `property ${key} must be a topic name`, at);
        }
        (props as Record<string, unknown>)[key] = v;
        break;
      }
      case "binary":
        (props as Record<string, unknown>)[key] = r.binary(what);
        break;
      case "pair": {
        const pair: UserProperty = [r.utf8(what), r.utf8(what)];
        (props.userProperties ??= []).push(pair);
        break;
      }
    }
  }
  r.end = outerEnd;
  return props;
}

/**
 * Reads a property block for `typeId` into `out.properties`, leaving it
 * unset for an empty block.
 */
export function readPropertiesInto(r: Reader, typeId: number, out: { properties?: Properties }) {
  const properties = readProperties(r, typeId);
  if (properties !== undefined) out.properties = properties;
}
