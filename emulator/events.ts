/**
 * Events reported by the emulator.
 *
 * @module
 */

import type { KvEntry, OtaType, RateLimits } from "./types.ts";

/**
 * Where the emulator reports what happens: one call per event.
 *
 * @example
 * ```ts
 * import type { EventListener } from "@tbwasm/sdk/emulator";
 * const log: EventListener = (e) => console.log(e.type, e.device ?? "-");
 * ```
 */
export type EventListener = (event: EmulatorEvent) => void;

/**
 * Fields every {@linkcode EmulatorEvent} carries.
 *
 * @example
 * ```ts
 * import type { EventBase } from "@tbwasm/sdk/emulator";
 * const order = (a: EventBase, b: EventBase) => a.seq - b.seq;
 * ```
 */
export interface EventBase {
  /** Sequence number, from 1. */
  seq: number;
  /** Time in ms since the epoch. */
  time: number;
  /** Connection number ({@linkcode SessionInfo.id}), 0 for API-originated events. */
  session: number;
  /** Device name, when the event concerns a device. */
  device?: string;
}

/**
 * Everything the emulator reports, as a union on `type`. Secrets (tokens,
 * passwords, provision secrets) never appear in events.
 *
 * @example Waiting for a telemetry message
 * ```ts
 * import type { EmulatorEvent } from "@tbwasm/sdk/emulator";
 * function describe(e: EmulatorEvent): string {
 *   return e.type === "telemetry" ? `${e.device}: ${Object.keys(e.values).join(",")}` : e.type;
 * }
 * ```
 */
export type EmulatorEvent =
  | EventBase & { type: "listening"; port: number; tlsPort?: number }
  | EventBase & { type: "connect"; device: string; clientId: string; protocolVersion: number }
  | EventBase & { type: "provisionConnect"; clientId: string; protocolVersion: number }
  | EventBase & {
    type: "connectRefused";
    clientId: string;
    protocolVersion: number;
    reasonCode: number;
  }
  | EventBase & { type: "disconnect"; reason: DisconnectReason; reasonCode?: number }
  | EventBase & { type: "subscribe"; topicFilter: string; reasonCode: number }
  | EventBase & { type: "unsubscribe"; topicFilter: string; reasonCode: number }
  | EventBase & { type: "telemetry"; device: string; values: Record<string, KvEntry[]> }
  | EventBase & { type: "attributes"; device: string; values: Record<string, KvEntry> }
  | EventBase & {
    type: "attributeRequest";
    device: string;
    requestId: number;
    clientKeys: string[] | null;
    sharedKeys: string[] | null;
  }
  | EventBase & { type: "sharedAttributesPush"; device: string; payload: string }
  | EventBase & { type: "rpcRequest"; device: string; requestId: number; method: string }
  | EventBase & { type: "rpcResponse"; device: string; requestId: number; payload: string }
  | EventBase & { type: "clientRpc"; device: string; requestId: number; method: string }
  | EventBase & { type: "clientRpcResponse"; device: string; requestId: number; payload: string }
  | EventBase & { type: "claim"; device: string; secretKey: string; durationMs: number }
  | EventBase & { type: "provision"; deviceName: string; status: string }
  | EventBase & { type: "subDeviceConnect"; device: string; gateway: string }
  | EventBase & { type: "subDeviceDisconnect"; device: string; gateway: string }
  | EventBase & {
    type: "otaChunkRequest";
    device: string;
    otaType: OtaType;
    requestId: string;
    chunk: number;
    chunkSize: number;
  }
  | EventBase & { type: "publishRejected"; topic: string; reasonCode: number; message: string }
  | EventBase & { type: "rateLimited"; topic: string; limit: keyof RateLimits }
  | EventBase & { type: "protocolError"; message: string };

/**
 * Why a connection ended.
 *
 * @example
 * ```ts
 * import type { DisconnectReason } from "@tbwasm/sdk/emulator";
 * const r: DisconnectReason = "takenOver";
 * ```
 */
export type DisconnectReason =
  /** The client sent DISCONNECT. */
  | "client"
  /** The socket closed without DISCONNECT. */
  | "connectionLost"
  /** Another connection with the same credentials took over (v5 DISCONNECT 0x8E). */
  | "takenOver"
  /** Malformed packet or protocol violation. */
  | "protocolError"
  /** Packet larger than `maxPayloadSize`. */
  | "payloadTooLarge"
  /** Invalid payload on MQTT 3.1.1. */
  | "invalidPayload"
  /** Refused CONNECT. */
  | "refused"
  /** No packet for `inactivityTimeout` ms (v5 DISCONNECT 0xA0). */
  | "inactivity"
  /** The client stopped reading (more than 16 MiB queued for it). */
  | "slowClient"
  /** The server failed to handle a packet (v5 DISCONNECT 0x83 or 0x8B). */
  | "serverError"
  /** A message went over the device's rate limits (v5 DISCONNECT 0x83). */
  | "rateLimited"
  /** Closed by {@linkcode Emulator.disconnect}, the provisioning timeout or {@linkcode Emulator.close}. */
  | "server";

/**
 * The event type names.
 *
 * @example
 * ```ts
 * import type { EmulatorEventType } from "@tbwasm/sdk/emulator";
 * const t: EmulatorEventType = "rpcResponse";
 * ```
 */
export type EmulatorEventType = EmulatorEvent["type"];

/**
 * The event of one type.
 *
 * @example
 * ```ts
 * import type { EmulatorEventOf } from "@tbwasm/sdk/emulator";
 * const onClaim = (e: EmulatorEventOf<"claim">) => console.log(e.secretKey);
 * ```
 */
export type EmulatorEventOf<T extends EmulatorEventType> = Extract<EmulatorEvent, { type: T }>;
