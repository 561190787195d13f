/**
 * MQTT packet types for protocol levels 3 (3.1), 4 (3.1.1) and 5 (5.0).
 *
 * Packets are a discriminated union on `type`. Fields that only exist in
 * MQTT 5 (`properties`, most `reasonCode`s) are optional and ignored when
 * encoding for 3.1 / 3.1.1.
 *
 * @module
 */

/**
 * MQTT protocol level as carried in the CONNECT packet: 3 = MQTT 3.1,
 * 4 = MQTT 3.1.1, 5 = MQTT 5.0.
 *
 * @example Choosing MQTT 3.1.1
 * ```ts
 * import type { ProtocolVersion } from "@tbwasm/sdk/codec";
 * const version: ProtocolVersion = 4;
 * ```
 */
export type ProtocolVersion = 3 | 4 | 5;

/**
 * Quality of service level of a PUBLISH or a subscription.
 *
 * @example
 * ```ts
 * import type { QoS } from "@tbwasm/sdk/codec";
 * const qos: QoS = 1;
 * ```
 */
export type QoS = 0 | 1 | 2;

/**
 * An MQTT 5 user property: a name/value pair. Order and duplicates are
 * preserved, as the specification requires [MQTT-3.3.2-18].
 *
 * @example
 * ```ts
 * import type { UserProperty } from "@tbwasm/sdk/codec";
 * const p: UserProperty = ["region", "eu-west"];
 * ```
 */
export type UserProperty = [name: string, value: string];

/**
 * MQTT 5 properties as a typed object. Which properties a packet may carry is
 * checked by the codec (see `PROPERTIES` in `properties.ts`). Byte-valued
 * flags defined as 0/1 by the specification are booleans here. Decoders
 * omit `properties` from a packet whose property block is empty; encoders
 * write properties in ascending id order (user properties in their order).
 *
 * @example Properties of a PUBLISH
 * ```ts
 * import type { Properties } from "@tbwasm/sdk/codec";
 * const props: Properties = {
 *   contentType: "application/json",
 *   userProperties: [["a", "1"], ["a", "2"]],
 * };
 * ```
 */
export interface Properties {
  /** 0x01 Payload Format Indicator: `true` = UTF-8 payload. */
  payloadFormatIndicator?: boolean;
  /** 0x02 Message Expiry Interval in seconds. */
  messageExpiryInterval?: number;
  /** 0x03 Content Type. */
  contentType?: string;
  /** 0x08 Response Topic (a topic name, no wildcards). */
  responseTopic?: string;
  /** 0x09 Correlation Data. */
  correlationData?: Uint8Array;
  /** 0x0B Subscription Identifier(s): several on an inbound PUBLISH, one on SUBSCRIBE. 1..268,435,455. */
  subscriptionIdentifiers?: number[];
  /** 0x11 Session Expiry Interval in seconds. */
  sessionExpiryInterval?: number;
  /** 0x12 Assigned Client Identifier. */
  assignedClientIdentifier?: string;
  /** 0x13 Server Keep Alive in seconds. */
  serverKeepAlive?: number;
  /** 0x15 Authentication Method. */
  authenticationMethod?: string;
  /** 0x16 Authentication Data. */
  authenticationData?: Uint8Array;
  /** 0x17 Request Problem Information. */
  requestProblemInformation?: boolean;
  /** 0x18 Will Delay Interval in seconds. */
  willDelayInterval?: number;
  /** 0x19 Request Response Information. */
  requestResponseInformation?: boolean;
  /** 0x1A Response Information. */
  responseInformation?: string;
  /** 0x1C Server Reference. */
  serverReference?: string;
  /** 0x1F Reason String. */
  reasonString?: string;
  /** 0x21 Receive Maximum (1..65535). */
  receiveMaximum?: number;
  /** 0x22 Topic Alias Maximum. */
  topicAliasMaximum?: number;
  /** 0x23 Topic Alias (1..65535). */
  topicAlias?: number;
  /** 0x24 Maximum QoS (0 or 1). */
  maximumQoS?: 0 | 1;
  /** 0x25 Retain Available. */
  retainAvailable?: boolean;
  /** 0x26 User Property, in order, duplicates allowed. */
  userProperties?: UserProperty[];
  /** 0x27 Maximum Packet Size (1..4,294,967,295). */
  maximumPacketSize?: number;
  /** 0x28 Wildcard Subscription Available. */
  wildcardSubscriptionAvailable?: boolean;
  /** 0x29 Subscription Identifier Available. */
  subscriptionIdentifiersAvailable?: boolean;
  /** 0x2A Shared Subscription Available. */
  sharedSubscriptionAvailable?: boolean;
}

/**
 * The Will message carried by a CONNECT packet.
 *
 * @example
 * ```ts
 * import type { Will } from "@tbwasm/sdk/codec";
 * const will: Will = { topic: "status", payload: new TextEncoder().encode("offline"), qos: 1, retain: false };
 * ```
 */
export interface Will {
  /** Will topic (a topic name, no wildcards). */
  topic: string;
  /** Will payload. */
  payload: Uint8Array;
  /** Will QoS. */
  qos: QoS;
  /** Will retain flag. */
  retain: boolean;
  /** MQTT 5 will properties. */
  properties?: Properties;
}

/**
 * CONNECT (client → server).
 *
 * @example
 * ```ts
 * import type { ConnectPacket } from "@tbwasm/sdk/codec";
 * const p: ConnectPacket = {
 *   type: "connect", protocolVersion: 5, clientId: "dev1", clean: true, keepalive: 60, username: "TOKEN",
 * };
 * ```
 */
export interface ConnectPacket {
  /** Discriminant. */
  type: "connect";
  /** 3, 4 or 5. The protocol name is "MQIsdp" for 3 and "MQTT" otherwise. */
  protocolVersion: ProtocolVersion;
  /** Client identifier (may be empty on 3.1.1 and 5.0 when `clean` is true). */
  clientId: string;
  /** Clean Session (3.1/3.1.1) or Clean Start (5.0). */
  clean: boolean;
  /** Keep Alive in seconds (0..65535). */
  keepalive: number;
  /** User Name. */
  username?: string;
  /** Password (binary data). */
  password?: Uint8Array;
  /** Will message. */
  will?: Will;
  /** MQTT 5 CONNECT properties. */
  properties?: Properties;
}

/**
 * CONNACK (server → client). `reasonCode` is the 3.1/3.1.1 return code
 * (0..5) or the MQTT 5 reason code.
 *
 * @example
 * ```ts
 * import type { ConnackPacket } from "@tbwasm/sdk/codec";
 * const p: ConnackPacket = { type: "connack", sessionPresent: false, reasonCode: 0 };
 * ```
 */
export interface ConnackPacket {
  /** Discriminant. */
  type: "connack";
  /** Session Present flag: the server resumed a session. */
  sessionPresent: boolean;
  /** 3.1/3.1.1 return code (0..5) or MQTT 5 reason code. */
  reasonCode: number;
  /** MQTT 5 CONNACK properties. */
  properties?: Properties;
}

/**
 * PUBLISH (both directions). `packetId` is present exactly when `qos > 0`.
 * Decoded payloads are views into the decoder's input where possible.
 *
 * @example
 * ```ts
 * import type { PublishPacket } from "@tbwasm/sdk/codec";
 * const p: PublishPacket = {
 *   type: "publish", topic: "v1/devices/me/telemetry", payload: new TextEncoder().encode('{"t":21}'),
 *   qos: 1, retain: false, dup: false, packetId: 1,
 * };
 * ```
 */
export interface PublishPacket {
  /** Discriminant. */
  type: "publish";
  /** Topic name (empty only with a MQTT 5 Topic Alias). */
  topic: string;
  /** Application message; a view of the decoder input when decoded. */
  payload: Uint8Array;
  /** Quality of service. */
  qos: QoS;
  /** RETAIN flag. */
  retain: boolean;
  /** DUP flag (redelivery); always false on QoS 0. */
  dup: boolean;
  /** Packet identifier (1..65535), present exactly when `qos > 0`. */
  packetId?: number;
  /** MQTT 5 PUBLISH properties. */
  properties?: Properties;
}

/**
 * PUBACK, PUBREC, PUBREL and PUBCOMP. `reasonCode` defaults to 0 (Success)
 * and is only carried on MQTT 5; decoded MQTT 5 acks always have it.
 *
 * @example
 * ```ts
 * import type { AckPacket } from "@tbwasm/sdk/codec";
 * const p: AckPacket = { type: "puback", packetId: 7 };
 * ```
 */
export interface AckPacket {
  /** Which acknowledgement this is. */
  type: "puback" | "pubrec" | "pubrel" | "pubcomp";
  /** Packet identifier (1..65535) of the acknowledged PUBLISH or PUBREC/PUBREL. */
  packetId: number;
  /** MQTT 5 reason code (0 = Success). */
  reasonCode?: number;
  /** MQTT 5 properties (Reason String, User Property). */
  properties?: Properties;
}

/**
 * One entry of a SUBSCRIBE. The v5 options are ignored on 3.1/3.1.1; a
 * decoded MQTT 5 SUBSCRIBE always carries all three.
 *
 * @example
 * ```ts
 * import type { Subscription } from "@tbwasm/sdk/codec";
 * const s: Subscription = { topicFilter: "v1/devices/me/rpc/request/+", qos: 1 };
 * ```
 */
export interface Subscription {
  /** Topic filter (wildcards allowed). */
  topicFilter: string;
  /** Maximum QoS requested. */
  qos: QoS;
  /** MQTT 5 No Local option. */
  noLocal?: boolean;
  /** MQTT 5 Retain As Published option. */
  retainAsPublished?: boolean;
  /** MQTT 5 Retain Handling option (0, 1 or 2). */
  retainHandling?: 0 | 1 | 2;
}

/**
 * SUBSCRIBE (client → server).
 *
 * @example
 * ```ts
 * import type { SubscribePacket } from "@tbwasm/sdk/codec";
 * const p: SubscribePacket = { type: "subscribe", packetId: 1, subscriptions: [{ topicFilter: "a/+", qos: 1 }] };
 * ```
 */
export interface SubscribePacket {
  /** Discriminant. */
  type: "subscribe";
  /** Packet identifier (1..65535). */
  packetId: number;
  /** At least one subscription. */
  subscriptions: Subscription[];
  /** MQTT 5 properties (Subscription Identifier, User Property). */
  properties?: Properties;
}

/**
 * SUBACK (server → client): one return/reason code per subscription.
 *
 * @example
 * ```ts
 * import type { SubackPacket } from "@tbwasm/sdk/codec";
 * const p: SubackPacket = { type: "suback", packetId: 1, reasonCodes: [1, 0x80] };
 * ```
 */
export interface SubackPacket {
  /** Discriminant. */
  type: "suback";
  /** Packet identifier of the SUBSCRIBE. */
  packetId: number;
  /** Granted QoS or failure code, one per subscription. */
  reasonCodes: number[];
  /** MQTT 5 properties (Reason String, User Property). */
  properties?: Properties;
}

/**
 * UNSUBSCRIBE (client → server).
 *
 * @example
 * ```ts
 * import type { UnsubscribePacket } from "@tbwasm/sdk/codec";
 * const p: UnsubscribePacket = { type: "unsubscribe", packetId: 2, topicFilters: ["a/+"] };
 * ```
 */
export interface UnsubscribePacket {
  /** Discriminant. */
  type: "unsubscribe";
  /** Packet identifier (1..65535). */
  packetId: number;
  /** At least one topic filter. */
  topicFilters: string[];
  /** MQTT 5 properties (User Property). */
  properties?: Properties;
}

/**
 * UNSUBACK (server → client). `reasonCodes` exist only on MQTT 5.
 *
 * @example
 * ```ts
 * import type { UnsubackPacket } from "@tbwasm/sdk/codec";
 * const p: UnsubackPacket = { type: "unsuback", packetId: 2 };
 * ```
 */
export interface UnsubackPacket {
  /** Discriminant. */
  type: "unsuback";
  /** Packet identifier of the UNSUBSCRIBE. */
  packetId: number;
  /** MQTT 5 reason codes, one per topic filter (required on MQTT 5). */
  reasonCodes?: number[];
  /** MQTT 5 properties (Reason String, User Property). */
  properties?: Properties;
}

/**
 * PINGREQ and PINGRESP.
 *
 * @example
 * ```ts
 * import type { PingPacket } from "@tbwasm/sdk/codec";
 * const p: PingPacket = { type: "pingreq" };
 * ```
 */
export interface PingPacket {
  /** PINGREQ (client) or PINGRESP (server). */
  type: "pingreq" | "pingresp";
}

/**
 * DISCONNECT (client → server; also server → client on MQTT 5). Decoded
 * MQTT 5 DISCONNECTs always carry `reasonCode` (0 when omitted on the wire).
 *
 * @example
 * ```ts
 * import type { DisconnectPacket } from "@tbwasm/sdk/codec";
 * const p: DisconnectPacket = { type: "disconnect", reasonCode: 0x8e };
 * ```
 */
export interface DisconnectPacket {
  /** Discriminant. */
  type: "disconnect";
  /** MQTT 5 reason code (0 = Normal disconnection). */
  reasonCode?: number;
  /** MQTT 5 DISCONNECT properties. */
  properties?: Properties;
}

/**
 * AUTH (MQTT 5 only). Decoded AUTH packets always carry `reasonCode`.
 *
 * @example
 * ```ts
 * import type { AuthPacket } from "@tbwasm/sdk/codec";
 * const p: AuthPacket = { type: "auth", reasonCode: 0x18, properties: { authenticationMethod: "SCRAM" } };
 * ```
 */
export interface AuthPacket {
  /** Discriminant. */
  type: "auth";
  /** MQTT 5 reason code: 0x00 Success, 0x18 Continue, 0x19 Re-authenticate. */
  reasonCode?: number;
  /** MQTT 5 AUTH properties (Authentication Method and Data, ...). */
  properties?: Properties;
}

/**
 * Any MQTT control packet.
 *
 * @example
 * ```ts
 * import type { Packet } from "@tbwasm/sdk/codec";
 * function describe(p: Packet): string {
 *   return p.type === "publish" ? `PUBLISH ${p.topic}` : p.type.toUpperCase();
 * }
 * ```
 */
export type Packet =
  | ConnectPacket
  | ConnackPacket
  | PublishPacket
  | AckPacket
  | SubscribePacket
  | SubackPacket
  | UnsubscribePacket
  | UnsubackPacket
  | PingPacket
  | DisconnectPacket
  | AuthPacket;

/**
 * The `type` discriminant of {@linkcode Packet}.
 *
 * @example
 * ```ts
 * import type { PacketTypeName } from "@tbwasm/sdk/codec";
 * const t: PacketTypeName = "suback";
 * ```
 */
export type PacketTypeName = Packet["type"];

/**
 * Options for encoding a packet.
 *
 * @example
 * ```ts
 * import type { EncodeOptions } from "@tbwasm/sdk/codec";
 * const options: EncodeOptions = { protocolVersion: 5 };
 * ```
 */
export interface EncodeOptions {
  /**
   * Protocol level used for every packet but CONNECT (which carries its own).
   * @default {4}
   */
  protocolVersion?: ProtocolVersion;
}

/**
 * Options for {@linkcode MqttDecoder}.
 *
 * @example
 * ```ts
 * import type { DecoderOptions } from "@tbwasm/sdk/codec";
 * const options: DecoderOptions = { protocolVersion: 5, maxPacketSize: 65_536 + 1024 };
 * ```
 */
export interface DecoderOptions {
  /**
   * Protocol level of the stream. A decoded CONNECT switches the decoder to
   * the level it carries (server side).
   * @default {4}
   */
  protocolVersion?: ProtocolVersion;
  /**
   * Largest whole packet (fixed header + remaining length) accepted, in
   * bytes. Checked on the remaining-length header before anything is
   * buffered.
   * @default {268435460}
   */
  maxPacketSize?: number;
}

/**
 * A streaming decoder: bytes in arbitrary chunks, whole packets out.
 * Implemented by {@linkcode MqttDecoder} (TS engine) and by the wasm engine.
 *
 * @example
 * ```ts
 * import { MqttDecoder, type PacketDecoder } from "@tbwasm/sdk/codec";
 * const decoder: PacketDecoder = new MqttDecoder({ protocolVersion: 5 });
 * decoder.push(new Uint8Array([0xd0, 0x00])); // [{ type: "pingresp" }]
 * ```
 */
export interface PacketDecoder {
  /** Protocol level in use; a decoded CONNECT updates it. */
  protocolVersion: ProtocolVersion;
  /** `true` after a decode error until {@linkcode PacketDecoder.reset}. */
  readonly failed: boolean;
  /** Bytes held back waiting for the rest of a packet. */
  readonly bufferedBytes: number;
  /**
   * Feeds a chunk and returns the packets it completes, in order. Payload
   * views may alias `chunk`: do not mutate a chunk after pushing it.
   *
   * @throws {MqttDecodeError} on malformed input; further pushes throw
   * `DECODER_FAILED` until reset.
   */
  push(chunk: Uint8Array): Packet[];
  /** Drops buffered bytes and the failed state (for a new connection). */
  reset(): void;
}

/**
 * A codec engine: the pure-TS codec or the wasm engine. Both produce
 * byte-identical output and equal packets.
 *
 * @example
 * ```ts
 * import { tsCodec, type Codec } from "@tbwasm/sdk/codec";
 * const codec: Codec = tsCodec;
 * const bytes = codec.encode({ type: "pingreq" });
 * ```
 */
export interface Codec {
  /** Engine name. */
  readonly name: "ts" | "wasm";
  /** Size in bytes `packet` encodes to. @throws {TypeError | RangeError} for invalid packets. */
  encodedLength(packet: Packet, options?: EncodeOptions): number;
  /** Encodes into `buffer` at `offset`; returns bytes written. @throws {RangeError} if it does not fit. */
  encodeInto(packet: Packet, buffer: Uint8Array, offset: number, options?: EncodeOptions): number;
  /** Encodes into a new array. */
  encode(packet: Packet, options?: EncodeOptions): Uint8Array;
  /** Creates a streaming decoder. */
  createDecoder(options?: DecoderOptions): PacketDecoder;
}
