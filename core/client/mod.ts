/**
 * The ThingsBoard device client: {@linkcode TBDeviceMqttClient} with its
 * options, events, errors and payload types.
 *
 * @example
 * ```ts ignore
 * import { TBDeviceMqttClient } from "@tbwasm/sdk";
 * await using client = new TBDeviceMqttClient({ host: "127.0.0.1", accessToken: "A1_TEST_TOKEN" });
 * await client.connect();
 * await client.sendTelemetry({ temperature: 21.5 });
 * ```
 *
 * @module
 */

export { TBDeviceMqttClient } from "./client.ts";
export type {
  AttributesResponseCallback,
  DataOptions,
  RequestAttributesOptions,
  RequestOptions,
  SendOptions,
  TBDeviceMqttClientOptions,
} from "./options.ts";
export type { TBDeviceMqttClientEventMap } from "./events.ts";
export type {
  AttributeCallback,
  AttributeKeys,
  AttributesResponse,
  AttributeUpdate,
} from "./attributes.ts";
export type { RpcHandler, RpcRequest } from "./rpc.ts";
export type { RateLimitSpecs, SessionLimits } from "./limits.ts";
export type { WaitForMsgOptions } from "./poll.ts";
export { DEVICE_SUBSCRIPTIONS, ShortTopics, type TopicFamily, Topics } from "./topics.ts";
export {
  InvalidAttributeKeyError,
  InvalidMessageError,
  OtaError,
  type OtaErrorCode,
  ProvisionError,
  RpcError,
  TooManyDataPointsError,
} from "./errors.ts";
export type {
  ChecksumAlgorithm,
  FirmwareAssignedCallback,
  OtaPackage,
  OtaPackageInfo,
  OtaProgress,
  OtaState,
  OtaType,
  UpdateFirmwareOptions,
} from "./ota.ts";

// Types of the MQTT layer, payloads and telemetry that this API uses, so that
// this module documents itself.
export type {
  JsonObject,
  JsonValue,
  KeyValues,
  PayloadSerializer,
  Telemetry,
  TimeseriesEntry,
} from "../payload.ts";
export * from "./mqtt_types.ts";
export type * from "../telemetry/mod.ts";
