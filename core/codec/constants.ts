/**
 * Protocol tables of the MQTT codec: packet type ids, fixed-header rules,
 * MQTT 5 reason codes and which of them each packet may carry.
 *
 * @module
 */

import type { PacketTypeName } from "./types.ts";

/**
 * Numeric MQTT control packet type ids (the high nibble of the first byte).
 *
 * @example
 * ```ts
 * import { PacketType } from "@tbwasm/sdk/codec";
 * const firstByte = (PacketType.Pingreq << 4) | 0; // 0xc0
 * ```
 */
export const PacketType = {
  Connect: 1,
  Connack: 2,
  Publish: 3,
  Puback: 4,
  Pubrec: 5,
  Pubrel: 6,
  Pubcomp: 7,
  Subscribe: 8,
  Suback: 9,
  Unsubscribe: 10,
  Unsuback: 11,
  Pingreq: 12,
  Pingresp: 13,
  Disconnect: 14,
  Auth: 15,
} as const;

/**
 * A numeric packet type id, one of the values of {@linkcode PacketType}.
 *
 * @example
 * ```ts
 * import { PacketType } from "@tbwasm/sdk/codec";
 * const id: PacketType = PacketType.Publish; // 3
 * ```
 */
export type PacketType = typeof PacketType[keyof typeof PacketType];

/**
 * Largest value the 4-byte remaining-length field can carry (256 MiB - 1).
 *
 * @example
 * ```ts
 * import { MAX_REMAINING_LENGTH } from "@tbwasm/sdk/codec";
 * console.log(MAX_REMAINING_LENGTH); // 268435455
 * ```
 */
export const MAX_REMAINING_LENGTH = 268_435_455;

/**
 * Largest whole packet: 1 header byte, 4 remaining-length bytes and
 * {@linkcode MAX_REMAINING_LENGTH} (268,435,460 bytes). The default maximum
 * packet size of {@linkcode MqttDecoder}.
 *
 * @example
 * ```ts
 * import { MAX_PACKET_SIZE } from "@tbwasm/sdk/codec";
 * console.log(MAX_PACKET_SIZE); // 268435460
 * ```
 */
export const MAX_PACKET_SIZE: number = MAX_REMAINING_LENGTH + 5;

/** Packet type id by `type` discriminant. */
export const PACKET_TYPE_ID: Readonly<Record<PacketTypeName, PacketType>> = {
  connect: 1,
  connack: 2,
  publish: 3,
  puback: 4,
  pubrec: 5,
  pubrel: 6,
  pubcomp: 7,
  subscribe: 8,
  suback: 9,
  unsubscribe: 10,
  unsuback: 11,
  pingreq: 12,
  pingresp: 13,
  disconnect: 14,
  auth: 15,
};

/** Upper-case packet names by type id, for messages. Index 0 is reserved. */
export const PACKET_NAME: readonly string[] = [
  "packet",
  "CONNECT",
  "CONNACK",
  "PUBLISH",
  "PUBACK",
  "PUBREC",
  "PUBREL",
  "PUBCOMP",
  "SUBSCRIBE",
  "SUBACK",
  "UNSUBSCRIBE",
  "UNSUBACK",
  "PINGREQ",
  "PINGRESP",
  "DISCONNECT",
  "AUTH",
];

/**
 * Required low nibble of the first byte per packet type; -1 for PUBLISH,
 * whose flags carry DUP, QoS and RETAIN. [MQTT-2.2.2-1] [MQTT-2.2.2-2]
 * PUBREL, SUBSCRIBE and UNSUBSCRIBE use 0b0010: [MQTT-3.6.1-1]
 * [MQTT-3.8.1-1] [MQTT-3.10.1-1].
 */
export const REQUIRED_HEADER_FLAGS: readonly number[] = [
  -2, // 0: reserved type
  0,
  0,
  -1,
  0,
  0,
  0b0010,
  0,
  0b0010,
  0,
  0b0010,
  0,
  0,
  0,
  0,
  0,
];

/**
 * MQTT 5 reason codes by name (and the MQTT 3.1.1 SUBACK failure code 0x80).
 *
 * @example
 * ```ts
 * import { ReasonCode } from "@tbwasm/sdk/codec";
 * if (ReasonCode.PayloadFormatInvalid === 0x99) console.log("ok");
 * ```
 */
export const ReasonCode = {
  Success: 0x00,
  NormalDisconnection: 0x00,
  GrantedQoS0: 0x00,
  GrantedQoS1: 0x01,
  GrantedQoS2: 0x02,
  DisconnectWithWillMessage: 0x04,
  NoMatchingSubscribers: 0x10,
  NoSubscriptionExisted: 0x11,
  ContinueAuthentication: 0x18,
  ReAuthenticate: 0x19,
  UnspecifiedError: 0x80,
  MalformedPacket: 0x81,
  ProtocolError: 0x82,
  ImplementationSpecificError: 0x83,
  UnsupportedProtocolVersion: 0x84,
  ClientIdentifierNotValid: 0x85,
  BadUserNameOrPassword: 0x86,
  NotAuthorized: 0x87,
  ServerUnavailable: 0x88,
  ServerBusy: 0x89,
  Banned: 0x8a,
  ServerShuttingDown: 0x8b,
  BadAuthenticationMethod: 0x8c,
  KeepAliveTimeout: 0x8d,
  SessionTakenOver: 0x8e,
  TopicFilterInvalid: 0x8f,
  TopicNameInvalid: 0x90,
  PacketIdentifierInUse: 0x91,
  PacketIdentifierNotFound: 0x92,
  ReceiveMaximumExceeded: 0x93,
  TopicAliasInvalid: 0x94,
  PacketTooLarge: 0x95,
  MessageRateTooHigh: 0x96,
  QuotaExceeded: 0x97,
  AdministrativeAction: 0x98,
  PayloadFormatInvalid: 0x99,
  RetainNotSupported: 0x9a,
  QoSNotSupported: 0x9b,
  UseAnotherServer: 0x9c,
  ServerMoved: 0x9d,
  SharedSubscriptionsNotSupported: 0x9e,
  ConnectionRateExceeded: 0x9f,
  MaximumConnectTime: 0xa0,
  SubscriptionIdentifiersNotSupported: 0xa1,
  WildcardSubscriptionsNotSupported: 0xa2,
} as const;

/**
 * MQTT 3.1 / 3.1.1 CONNACK return codes (the `reasonCode` of a CONNACK on
 * protocol levels 3 and 4).
 *
 * @example
 * ```ts
 * import { ConnectReturnCode } from "@tbwasm/sdk/codec";
 * console.log(ConnectReturnCode.NotAuthorized); // 5
 * ```
 */
export const ConnectReturnCode = {
  Accepted: 0,
  UnacceptableProtocolVersion: 1,
  IdentifierRejected: 2,
  ServerUnavailable: 3,
  BadUserNameOrPassword: 4,
  NotAuthorized: 5,
} as const;

function codeSet(codes: number[]): Uint8Array {
  const set = new Uint8Array(256);
  for (const c of codes) set[c] = 1;
  return set;
}

const PUBACK_CODES = codeSet([0x00, 0x10, 0x80, 0x83, 0x87, 0x90, 0x91, 0x97, 0x99]);
const PUBREL_CODES = codeSet([0x00, 0x92]);

/**
 * MQTT 5 reason codes allowed per packet type id, as 256-entry membership
 * tables (1 = allowed). Index: packet type id. Spec sections 3.2.2.2 (CONNACK),
 * 3.4.2.1 (PUBACK), 3.5.2.1 (PUBREC), 3.6.2.1 (PUBREL), 3.7.2.1 (PUBCOMP),
 * 3.9.3 (SUBACK), 3.11.3 (UNSUBACK), 3.14.2.1 (DISCONNECT), 3.15.2.1 (AUTH).
 */
export const REASON_CODES_V5: readonly (Uint8Array | undefined)[] = [
  undefined,
  undefined,
  codeSet([
    0x00,
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
  ]),
  undefined,
  PUBACK_CODES,
  PUBACK_CODES,
  PUBREL_CODES,
  PUBREL_CODES,
  undefined,
  codeSet([0x00, 0x01, 0x02, 0x80, 0x83, 0x87, 0x8f, 0x91, 0x97, 0x9e, 0xa1, 0xa2]),
  undefined,
  codeSet([0x00, 0x11, 0x80, 0x83, 0x87, 0x8f, 0x91]),
  undefined,
  undefined,
  codeSet([
    0x00,
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
  ]),
  codeSet([0x00, 0x18, 0x19]),
];

/** MQTT 3.1 / 3.1.1 SUBACK return codes. [MQTT-3.9.3-2] */
export const SUBACK_CODES_V4: Uint8Array = codeSet([0x00, 0x01, 0x02, 0x80]);

/** Highest MQTT 3.1 / 3.1.1 CONNACK return code; 6..255 are reserved. */
export const MAX_CONNECT_RETURN_CODE = 5;

/**
 * Tells whether `code` is a reason code that packet type `typeId` may carry
 * on protocol level `version`.
 */
export function isAllowedReasonCode(typeId: number, code: number, version: number): boolean {
  if (version < 5) {
    if (typeId === PacketType.Connack) return code <= MAX_CONNECT_RETURN_CODE;
    if (typeId === PacketType.Suback) return SUBACK_CODES_V4[code] === 1;
    return code === 0;
  }
  return REASON_CODES_V5[typeId]?.[code] === 1;
}
