import assert from "node:assert/strict";
import {
  isAllowedReasonCode,
  PACKET_NAME,
  PACKET_TYPE_ID,
  PacketType,
  ReasonCode,
  REQUIRED_HEADER_FLAGS,
} from "./constants.ts";

Deno.test("PacketType and PACKET_TYPE_ID agree with PACKET_NAME", () => {
  for (const [name, id] of Object.entries(PACKET_TYPE_ID)) {
    assert.equal(PACKET_NAME[id], name.toUpperCase());
    const key = name[0]!.toUpperCase() + name.slice(1);
    assert.equal(PacketType[key as keyof typeof PacketType], id);
  }
});

Deno.test("REQUIRED_HEADER_FLAGS is 0b0010 for PUBREL, SUBSCRIBE and UNSUBSCRIBE only [MQTT-2.2.2-2]", () => {
  for (let id = 1; id <= 15; id++) {
    const expected = id === 3 ? -1 : id === 6 || id === 8 || id === 10 ? 2 : 0;
    assert.equal(REQUIRED_HEADER_FLAGS[id], expected, PACKET_NAME[id] ?? String(id));
  }
});

Deno.test("ReasonCode names the MQTT 5 reason codes", () => {
  assert.equal(ReasonCode.PayloadFormatInvalid, 0x99);
  assert.equal(ReasonCode.NotAuthorized, 0x87);
  assert.equal(ReasonCode.WildcardSubscriptionsNotSupported, 0xa2);
  assert.equal(ReasonCode.GrantedQoS2, 0x02);
  assert.equal(new Set(Object.values(ReasonCode)).size, 43);
});

/** Reason codes per packet, written out from MQTT 5 sections 3.2.2.2 to 3.15.2.1. */
const V5: [number, number[]][] = [
  [PacketType.Connack, [
    0,
    0x80,
    0x81,
    0x82,
    0x83,
    0x84,
    0x85,
    0x86,
    0x87,
    0x88,
    0x89,
    0x8a,
    0x8c,
    0x90,
    0x95,
    0x97,
    0x99,
    0x9a,
    0x9b,
    0x9c,
    0x9d,
    0x9f,
  ]],
  [PacketType.Puback, [0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]],
  [PacketType.Pubrec, [0, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]],
  [PacketType.Pubrel, [0, 0x92]],
  [PacketType.Pubcomp, [0, 0x92]],
  [PacketType.Suback, [0, 1, 2, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]],
  [PacketType.Unsuback, [0, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]],
  [PacketType.Disconnect, [
    0,
    0x04,
    0x80,
    0x81,
    0x82,
    0x83,
    0x87,
    0x89,
    0x8b,
    0x8d,
    0x8e,
    0x8f,
    0x90,
    0x93,
    0x94,
    0x95,
    0x96,
    0x97,
    0x98,
    0x99,
    0x9a,
    0x9b,
    0x9c,
    0x9d,
    0x9e,
    0x9f,
    0xa0,
    0xa1,
    0xa2,
  ]],
  [PacketType.Auth, [0, 0x18, 0x19]],
];

Deno.test("isAllowedReasonCode() follows the MQTT 5 reason code tables", () => {
  for (const [type, codes] of V5) {
    for (let code = 0; code < 256; code++) {
      assert.equal(
        isAllowedReasonCode(type, code, 5),
        codes.includes(code),
        `${PACKET_NAME[type]} 0x${code.toString(16)}`,
      );
    }
  }
});

Deno.test("isAllowedReasonCode() follows MQTT 3.1.1 for CONNACK and SUBACK [MQTT-3.9.3-2]", () => {
  for (let code = 0; code < 256; code++) {
    assert.equal(isAllowedReasonCode(PacketType.Connack, code, 4), code <= 5);
    assert.equal(isAllowedReasonCode(PacketType.Suback, code, 4), [0, 1, 2, 0x80].includes(code));
  }
});
