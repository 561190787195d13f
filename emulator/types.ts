/**
 * Public types of the local ThingsBoard-compatible server (`@tbwasm/sdk/emulator`):
 * devices, values, options. Events are in `events.ts`, the `Emulator` interface in `api.ts`;
 * all are re-exported here.
 *
 * @module
 */

import type { ChecksumAlgorithm } from "../core/client/ota.ts";
import type { EventListener } from "./events.ts";

/**
 * A JSON value as parsed from a device payload.
 *
 * @example
 * ```ts
 * import type { JsonValue } from "@tbwasm/sdk/emulator";
 * const v: JsonValue = { mode: "auto", levels: [1, 2] };
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | {
  [key: string]: JsonValue;
};

/**
 * ThingsBoard's data type of a stored key-value entry.
 *
 * @example
 * ```ts
 * import type { KvType } from "@tbwasm/sdk/emulator";
 * const t: KvType = "DOUBLE"; // stored from `21.5` or from the string "21.5"
 * ```
 */
export type KvType = "BOOLEAN" | "LONG" | "DOUBLE" | "STRING" | "JSON";

/**
 * A stored value. `LONG` values outside the safe integer range are `bigint`s;
 * `JSON` values are the parsed object or array.
 *
 * @example
 * ```ts
 * import type { KvValue } from "@tbwasm/sdk/emulator";
 * const v: KvValue = 21;
 * ```
 */
export type KvValue = boolean | number | bigint | string | JsonValue;

/**
 * One stored data point or attribute with its ThingsBoard type.
 *
 * @example
 * ```ts
 * import type { KvEntry } from "@tbwasm/sdk/emulator";
 * const e: KvEntry = { ts: 1_700_000_000_000, value: 21, type: "LONG" };
 * ```
 */
export interface KvEntry {
  /** Timestamp in ms: the payload's `ts`, or the server time of arrival. */
  ts: number;
  /** The typed value. */
  value: KvValue;
  /** Its ThingsBoard type (a numeric string sent as `"21"` is stored as `LONG`). */
  type: KvType;
}

/**
 * Credentials of a device: an access token, or MQTT basic credentials.
 *
 * @example
 * ```ts
 * import type { DeviceCredentials } from "@tbwasm/sdk/emulator";
 * const c: DeviceCredentials = { type: "MQTT_BASIC", clientId: "c1", userName: "u", password: "p" };
 * ```
 */
export type DeviceCredentials =
  | { type: "ACCESS_TOKEN"; accessToken: string }
  | { type: "MQTT_BASIC"; clientId?: string; userName?: string; password?: string };

/**
 * What {@linkcode Emulator.createDevice} (and the `devices` option) takes.
 * Without `accessToken` and `credentials`, a random 20-character token is generated.
 *
 * @example
 * ```ts
 * import type { DeviceSpec } from "@tbwasm/sdk/emulator";
 * const a: DeviceSpec = { name: "thermostat", accessToken: "A1_TEST_TOKEN" };
 * const b: DeviceSpec = { name: "meter", credentials: { clientId: "meter-1", userName: "u", password: "p" } };
 * ```
 */
export interface DeviceSpec {
  /** Unique device name. */
  name: string;
  /** Access token (the CONNECT username). Mutually exclusive with `credentials`. */
  accessToken?: string;
  /** MQTT basic credentials; at least `clientId` or `userName` must be given. */
  credentials?: { clientId?: string; userName?: string; password?: string };
  /** Whether the device is a gateway. @default {false} */
  gateway?: boolean;
  /** Device profile name (used by "check pre-provisioned devices"). @default {"default"} */
  profile?: string;
}

/**
 * A device known to the emulator.
 *
 * @example
 * ```ts
 * import { startEmulator } from "@tbwasm/sdk/emulator";
 * await using tb = await startEmulator();
 * const device = tb.createDevice({ name: "d1" });
 * console.log(device.name, device.accessToken);
 * ```
 */
export interface Device {
  /** Random UUID. */
  readonly id: string;
  /** Unique name. */
  readonly name: string;
  /** The access token, when the credentials are of type `ACCESS_TOKEN`. */
  readonly accessToken: string | undefined;
  /** The credentials. */
  readonly credentials: DeviceCredentials;
  /** Gateway flag. */
  readonly gateway: boolean;
  /** Device profile name. */
  readonly profile: string;
  /** Creation time in ms since the epoch. */
  readonly createdTime: number;
  /** `true` once created or claimed by a provisioning request. */
  readonly provisioned: boolean;
}

/**
 * How a provision profile treats provisioning requests, as ThingsBoard's
 * device profile "Provision strategy".
 *
 * @example
 * ```ts
 * import type { ProvisionStrategy } from "@tbwasm/sdk/emulator";
 * const s: ProvisionStrategy = "allowCreateNewDevices";
 * ```
 */
export type ProvisionStrategy = "allowCreateNewDevices" | "checkPreProvisionedDevices";

/**
 * A device profile with provisioning enabled.
 *
 * @example
 * ```ts
 * import type { ProvisionProfileSpec } from "@tbwasm/sdk/emulator";
 * const p: ProvisionProfileSpec = {
 *   name: "sensors", provisionKey: "KEY", provisionSecret: "SECRET", strategy: "allowCreateNewDevices",
 * };
 * ```
 */
export interface ProvisionProfileSpec {
  /** Profile name; provisioned devices get it as their `profile`. */
  name: string;
  /** The `provisionDeviceKey` devices send. Unique among profiles. */
  provisionKey: string;
  /** The `provisionDeviceSecret` devices send. */
  provisionSecret: string;
  /** Create new devices, or only hand out credentials of existing devices of this profile. */
  strategy: ProvisionStrategy;
}

/**
 * Kind of OTA package.
 *
 * @example
 * ```ts
 * import type { OtaType } from "@tbwasm/sdk/emulator";
 * const t: OtaType = "firmware"; // attributes fw_*, topics v2/fw/...
 * ```
 */
export type OtaType = "firmware" | "software";

// Checksum algorithms of OTA packages (ThingsBoard's names), the same the client verifies.
export type { ChecksumAlgorithm };

/**
 * An OTA package to assign to a device with {@linkcode Emulator.assignOtaPackage}.
 *
 * @example
 * ```ts
 * import type { OtaPackageSpec } from "@tbwasm/sdk/emulator";
 * const fw: OtaPackageSpec = { title: "app", version: "1.1", data: new Uint8Array(1000) };
 * ```
 */
export interface OtaPackageSpec {
  /** Firmware (`fw_*`) or software (`sw_*`). @default {"firmware"} */
  type?: OtaType;
  /** Package title. */
  title: string;
  /** Package version. */
  version: string;
  /** Optional tag. */
  tag?: string;
  /** The package bytes, served in chunks on `v2/fw/response/{requestId}/chunk/{n}`. */
  data: Uint8Array;
  /** Checksum algorithm. @default {"SHA256"} */
  checksumAlgorithm?: ChecksumAlgorithm;
}

/**
 * A device, by name or as returned by {@linkcode Emulator.createDevice}.
 *
 * @example
 * ```ts
 * import type { DeviceRef } from "@tbwasm/sdk/emulator";
 * const ref: DeviceRef = "thermostat";
 * ```
 */
export type DeviceRef = string | Device;

/**
 * Rate limits reported by `getSessionLimits` and enforced: `"capacity:seconds,..."` strings
 * (every pair must hold), `null` = none.
 *
 * @example
 * ```ts
 * import type { RateLimits } from "@tbwasm/sdk/emulator";
 * const r: RateLimits = { messages: "200:1,6000:60", telemetryMessages: null, telemetryDataPoints: null };
 * ```
 */
export interface RateLimits {
  /** Limit on messages other than telemetry and attributes (RPC, requests, claims…). */
  messages: string | null;
  /** Limit on telemetry and attribute messages. */
  telemetryMessages: string | null;
  /** Limit on telemetry and attribute data points. */
  telemetryDataPoints: string | null;
}

/**
 * Options of {@linkcode startEmulator}.
 *
 * @example
 * ```ts
 * import { startEmulator } from "@tbwasm/sdk/emulator";
 * await using tb = await startEmulator({ port: 0, devices: [{ name: "d1", accessToken: "T1" }] });
 * ```
 */
export interface EmulatorOptions {
  /** TCP port; 0 picks a free one (read it from {@linkcode Emulator.port}). @default {0} */
  port?: number;
  /** Address to listen on. @default {"127.0.0.1"} */
  host?: string;
  /** Also listen with TLS (PEM strings); `port` 0 or absent picks a free one. */
  tls?: { cert: string; key: string; port?: number };
  /** Refuse MQTT 5 CONNECTs with the 3.1.1 return code 1, like older ThingsBoard versions. @default {false} */
  mqtt311Only?: boolean;
  /** Time after which an unanswered client-side RPC gets `{"error":"timeout"}`, ms. @default {60000} */
  clientRpcTimeout?: number;
  /** Largest accepted MQTT payload in bytes; a bigger packet closes the connection. @default {65536} */
  maxPayloadSize?: number;
  /** Time after which a provisioning session is closed by the server, ms. @default {60000} */
  provisionSessionTimeout?: number;
  /**
   * A device session without any packet (PINGREQ included) for this long is closed
   * (v5 DISCONNECT 0xA0), like ThingsBoard's `transport.sessions.inactivity_timeout`, ms.
   * The MQTT keep alive itself is not enforced. 0 disables it.
   * @default {600000}
   */
  inactivityTimeout?: number;
  /**
   * Rate limits reported by `getSessionLimits` and enforced per device like ThingsBoard: a
   * telemetry or attribute message takes one `telemetryMessages` token and one
   * `telemetryDataPoints` token per value, any other device message one `messages` token. A
   * message over a limit is dropped and the session closed (v5 DISCONNECT 0x83). The same limits
   * apply separately to the sum of the traffic of the devices behind a gateway
   * (`gatewayRateLimits`); there a message over a limit gets PUBACK 0x97 and the connection is
   * closed without DISCONNECT, as ThingsBoard does.
   * @default {all null}
   */
  rateLimits?: Partial<RateLimits>;
  /** Enforce `rateLimits` (`false`: only report them). @default {true} */
  enforceRateLimits?: boolean;
  /** `maxInflightMessages` reported by `getSessionLimits`. @default {100} */
  maxInflightMessages?: number;
  /** Devices to create at start. */
  devices?: DeviceSpec[];
  /** Provision profiles to create at start. */
  profiles?: ProvisionProfileSpec[];
  /** Called synchronously for every event (also see {@linkcode Emulator.on}). */
  onEvent?: EventListener;
}

/**
 * Options of {@linkcode Emulator.sendRpc}.
 *
 * @example
 * ```ts
 * import type { SendRpcOptions } from "@tbwasm/sdk/emulator";
 * const o: SendRpcOptions = { timeout: 2000, oneway: false };
 * ```
 */
export interface SendRpcOptions {
  /** How long to wait for a subscribed session and for the reply, ms. @default {10000} */
  timeout?: number;
  /** One-way: resolve (with `undefined`) once the request is written to the device. @default {false} */
  oneway?: boolean;
  /** Aborts the wait. */
  signal?: AbortSignal;
}

/**
 * What a client-side RPC handler is given.
 *
 * @example
 * ```ts
 * import type { ClientRpcRequest } from "@tbwasm/sdk/emulator";
 * const handle = (req: ClientRpcRequest) => ({ time: Date.now(), from: req.device });
 * ```
 */
export interface ClientRpcRequest {
  /** Device name. */
  device: string;
  /** The request id from the topic. */
  requestId: number;
  /** The `method` field. */
  method: string;
  /** The `params` field (`null` when absent). */
  params: JsonValue;
}

/**
 * Answers a client-side RPC: the returned value (or resolved promise) is sent
 * as JSON; `undefined` sends nothing (the device gets `{"error":"timeout"}`
 * later); a thrown error sends `{"error":"<message>"}`.
 *
 * @example
 * ```ts
 * import type { ClientRpcHandler } from "@tbwasm/sdk/emulator";
 * const handler: ClientRpcHandler = (req) => ({ echo: req.params });
 * ```
 */
export type ClientRpcHandler = (request: ClientRpcRequest) => unknown;

/**
 * A claim request recorded for a device.
 *
 * @example
 * ```ts
 * import type { ClaimInfo } from "@tbwasm/sdk/emulator";
 * const c: ClaimInfo = { secretKey: "s3cr3t", durationMs: 60000, ts: Date.now() };
 * ```
 */
export interface ClaimInfo {
  /** The `secretKey` (`""` when absent). */
  secretKey: string;
  /** The `durationMs` (0 when absent). */
  durationMs: number;
  /** When the request arrived, ms. */
  ts: number;
}

/**
 * A live MQTT connection.
 *
 * @example
 * ```ts
 * import { startEmulator } from "@tbwasm/sdk/emulator";
 * await using tb = await startEmulator();
 * for (const s of tb.sessions) console.log(s.id, s.device, s.protocolVersion);
 * ```
 */
export interface SessionInfo {
  /** Connection number, from 1. */
  readonly id: number;
  /** Device name; `undefined` for a provisioning session or before CONNECT. */
  readonly device: string | undefined;
  /** `"provision"` for a provision-only session. */
  readonly kind: "device" | "provision" | "pending";
  /** The CONNECT client identifier. */
  readonly clientId: string;
  /** Protocol level of the CONNECT (3, 4 or 5; 0 before CONNECT). */
  readonly protocolVersion: number;
  /** Granted subscriptions: topic filter → QoS. */
  readonly subscriptions: ReadonlyMap<string, number>;
  /** Whether the connection came in on the TLS listener. */
  readonly tls: boolean;
}

/**
 * Options of {@linkcode Emulator.waitFor}.
 *
 * @example
 * ```ts
 * import type { WaitForOptions } from "@tbwasm/sdk/emulator";
 * const o: WaitForOptions = { timeout: 2000 };
 * ```
 */
export interface WaitForOptions {
  /** Reject with a `TimeoutError` `DOMException` after this many ms. @default {10000} */
  timeout?: number;
  /** Rejects with the signal's reason when aborted. */
  signal?: AbortSignal;
  /** Also match events already recorded with `seq > since` (see {@linkcode Emulator.lastSeq}). */
  since?: number;
}

export type * from "./events.ts";
export type { Emulator } from "./api.ts";
