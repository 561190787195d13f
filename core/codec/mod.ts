/**
 * A complete MQTT codec for protocol levels 3 (3.1), 4 (3.1.1) and 5 (5.0):
 * every packet type in both directions, encoding into caller memory, a
 * streaming decoder and topic helpers.
 *
 * @example Round trip of a PUBLISH
 * ```ts
 * import { encode, MqttDecoder } from "@tbwasm/sdk/codec";
 * const bytes = encode({
 *   type: "publish", topic: "v1/devices/me/telemetry", payload: new TextEncoder().encode('{"t":21}'),
 *   qos: 1, retain: false, dup: false, packetId: 1,
 * }, { protocolVersion: 5 });
 * const [packet] = new MqttDecoder({ protocolVersion: 5 }).push(bytes);
 * console.log(packet?.type); // "publish"
 * ```
 *
 * @module
 */

export * from "./types.ts";
export { MqttDecodeError, type MqttDecodeErrorCode } from "./errors.ts";
export {
  ConnectReturnCode,
  MAX_PACKET_SIZE,
  MAX_REMAINING_LENGTH,
  PacketType,
  ReasonCode,
} from "./constants.ts";
export { encode, encodedLength, encodeInto } from "./encode.ts";
export { MqttDecoder } from "./decoder.ts";
export { decodePacket } from "./decode_packet.ts";
export { tsCodec } from "./ts_codec.ts";
export { isValidTopicFilter, isValidTopicName, topicMatches } from "./topic.ts";
