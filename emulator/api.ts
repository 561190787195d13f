/**
 * The interface of a running emulator.
 *
 * @module
 */

import type {
  ClaimInfo,
  ClientRpcHandler,
  Device,
  DeviceRef,
  DeviceSpec,
  KvEntry,
  KvValue,
  OtaPackageSpec,
  OtaType,
  ProvisionProfileSpec,
  SendRpcOptions,
  SessionInfo,
  WaitForOptions,
} from "./types.ts";
import type { EmulatorEvent, EmulatorEventOf, EmulatorEventType, EventListener } from "./events.ts";

/**
 * A running emulator, as returned by {@linkcode startEmulator}. Methods that
 * take a {@linkcode DeviceRef} throw a `TypeError` for an unknown device.
 *
 * @example A device test against the emulator
 * ```ts ignore
 * import { startEmulator } from "@tbwasm/sdk/emulator";
 * import mqtt from "mqtt";
 * await using tb = await startEmulator();
 * const device = tb.createDevice({ name: "d1", accessToken: "T1" });
 * const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${tb.port}`, { username: "T1" });
 * await client.publishAsync("v1/devices/me/telemetry", '{"temp":21}', { qos: 1 });
 * console.log(tb.getLatestTelemetry(device).temp?.value); // 21
 * await client.endAsync();
 * ```
 */
export interface Emulator extends AsyncDisposable {
  /**
   * Address listened on.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * console.log(tb.host); // "127.0.0.1"
   * ```
   */
  readonly host: string;
  /**
   * The bound TCP port.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ port: 0 });
   * console.log(tb.port > 0); // true
   * ```
   */
  readonly port: number;
  /**
   * The bound TLS port, when the `tls` option was given.
   * @example
   * ```ts ignore
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ tls: { cert: "...", key: "..." } });
   * console.log(tb.tlsPort);
   * ```
   */
  readonly tlsPort: number | undefined;
  /**
   * All devices, in creation order.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.devices.map((d) => d.name)); // ["d1"]
   * ```
   */
  readonly devices: readonly Device[];
  /**
   * Live connections.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * console.log(tb.sessions.length); // 0
   * ```
   */
  readonly sessions: readonly SessionInfo[];
  /**
   * Sequence number of the latest event (0 before any): pass it as `since` to {@linkcode Emulator.waitFor}.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * const mark = tb.lastSeq;
   * ```
   */
  readonly lastSeq: number;

  /**
   * Creates a device.
   * @param spec Name and credentials; a 20-character token is generated when none are given.
   * @returns The device.
   * @throws {TypeError} if the name or the credentials are empty or already in use.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * const d = tb.createDevice({ name: "d1" });
   * console.log(d.accessToken?.length); // 20
   * ```
   */
  createDevice(spec: DeviceSpec): Device;
  /**
   * Looks a device up by name.
   * @param name Device name.
   * @returns The device or `undefined`.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * console.log(tb.getDevice("nope")); // undefined
   * ```
   */
  getDevice(name: string): Device | undefined;
  /**
   * Deletes a device and closes its session (v5 DISCONNECT 0x98).
   * @param device The device.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.deleteDevice("d1");
   * ```
   */
  deleteDevice(device: DeviceRef): void;
  /**
   * Creates a device profile with provisioning enabled.
   * @param spec Name, key, secret and strategy.
   * @throws {TypeError} if the name or provision key is empty or already in use.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * tb.createProvisionProfile({ name: "p", provisionKey: "K", provisionSecret: "S", strategy: "allowCreateNewDevices" });
   * ```
   */
  createProvisionProfile(spec: ProvisionProfileSpec): void;

  /**
   * Sets shared attributes (typed like ThingsBoard's REST input: integral numbers are `LONG`,
   * other numbers `DOUBLE`, numeric strings are cast to numbers) and pushes
   * `{"k":v,...}` to the device's sessions subscribed to attribute updates.
   * @param device The device.
   * @param attributes Key → value; `null` values are ignored.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.setSharedAttributes("d1", { targetTemp: 22.5, mode: "auto" });
   * ```
   */
  setSharedAttributes(device: DeviceRef, attributes: Record<string, unknown>): void;
  /**
   * Deletes shared attributes and pushes `{"deleted":[...]}` (every given key, as ThingsBoard does) to subscribed sessions.
   * @param device The device.
   * @param keys Keys to delete.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.setSharedAttributes("d1", { mode: "auto" });
   * tb.deleteSharedAttributes("d1", ["mode"]);
   * ```
   */
  deleteSharedAttributes(device: DeviceRef, keys: string[]): void;
  /**
   * Shared attributes as plain values.
   * @param device The device.
   * @returns Key → value.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.setSharedAttributes("d1", { mode: "auto" });
   * console.log(tb.getSharedAttributes("d1")); // { mode: "auto" }
   * ```
   */
  getSharedAttributes(device: DeviceRef): Record<string, KvValue>;
  /**
   * Client attributes (posted by the device) as plain values.
   * @param device The device.
   * @returns Key → value.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.getClientAttributes("d1")); // {}
   * ```
   */
  getClientAttributes(device: DeviceRef): Record<string, KvValue>;
  /**
   * Attributes of one scope with their types and update times.
   * @param device The device.
   * @param scope `"client"` or `"shared"`.
   * @returns Key → entry.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.setSharedAttributes("d1", { level: 2 });
   * console.log(tb.getAttributeEntries("d1", "shared").level?.type); // "LONG"
   * ```
   */
  getAttributeEntries(device: DeviceRef, scope: "client" | "shared"): Record<string, KvEntry>;
  /**
   * Stored data points per key, in arrival order (the latest 10,000 per key are kept).
   * @param device The device.
   * @returns Key → entries.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.getTelemetry("d1")); // {}
   * ```
   */
  getTelemetry(device: DeviceRef): Record<string, KvEntry[]>;
  /**
   * The latest data point per key (highest `ts`; on equal `ts` the last to arrive).
   * @param device The device.
   * @returns Key → entry.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.getLatestTelemetry("d1").temp); // undefined
   * ```
   */
  getLatestTelemetry(device: DeviceRef): Record<string, KvEntry>;
  /**
   * The latest claim request of a device.
   * @param device The device.
   * @returns The claim, or `undefined` if the device never sent one.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.getClaims("d1")); // undefined
   * ```
   */
  getClaims(device: DeviceRef): ClaimInfo | undefined;

  /**
   * Assigns an OTA package like ThingsBoard: telemetry `target_fw_title`, `target_fw_version`,
   * `target_fw_ts`, `fw_state` (QUEUED, then INITIATED); a push of `{"deleted":["fw_tag","fw_url"]}`
   * (without `fw_tag` when a tag is set); then the shared attributes `fw_title`, `fw_version`,
   * (`fw_tag`), `fw_size`, `fw_checksum_algorithm`, `fw_checksum`. Chunk requests are then served.
   * @param device The device.
   * @param pkg The package (`type: "software"` uses `sw_` names).
   * @throws {TypeError} for an invalid package.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.assignOtaPackage("d1", { title: "app", version: "2.0", data: new Uint8Array([1, 2, 3]) });
   * console.log(tb.getSharedAttributes("d1").fw_size); // 3
   * ```
   */
  assignOtaPackage(device: DeviceRef, pkg: OtaPackageSpec): void;
  /**
   * Unassigns the package of a type: every `fw_*` (or `sw_*`) shared attribute is deleted
   * (pushed as `{"deleted":[...]}`); chunk requests then get `NOT_FOUND` on `v2/fw/error`.
   * @param device The device.
   * @param type Firmware or software. @default {"firmware"}
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * tb.unassignOtaPackage("d1");
   * ```
   */
  unassignOtaPackage(device: DeviceRef, type?: OtaType): void;

  /**
   * Sends a server-side RPC `{"method","params"}` on `v1/devices/me/rpc/request/{id}`
   * (ids count from 0 per device). Waits for a session subscribed to RPC requests, then
   * (two-way) for the device's reply.
   * @param device The device.
   * @param method RPC method.
   * @param params RPC params (JSON-serializable). @default {{}}
   * @param options Timeout, one-way flag and abort signal.
   * @returns The reply parsed as JSON (the raw string if it is not JSON); `undefined` for one-way.
   * @throws {DOMException} `TimeoutError` when no reply (or no subscribed session) came in time,
   * `AbortError` (or the signal's reason) when aborted.
   * @example
   * ```ts ignore
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * const reply = await tb.sendRpc("d1", "setValve", { open: true }, { timeout: 5000 });
   * ```
   */
  sendRpc(
    device: DeviceRef,
    method: string,
    params?: unknown,
    options?: SendRpcOptions,
  ): Promise<unknown>;
  /**
   * Registers a client-side RPC handler for one method, or for every method without a
   * specific handler. Unanswered calls get `{"error":"timeout"}` after `clientRpcTimeout`.
   * `getSessionLimits` on the v1 topic is always answered by the server itself.
   * @param method Method name (omit for a fallback handler).
   * @param handler Computes the reply.
   * @returns A function that removes the handler.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * const off = tb.onClientRpc("getTime", () => ({ time: 1 }));
   * off();
   * ```
   */
  onClientRpc(method: string, handler: ClientRpcHandler): () => void;
  /**
   * Registers a fallback client-side RPC handler for every method without a specific one.
   * @param handler Computes the reply.
   * @returns A function that removes the handler.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * const off = tb.onClientRpc(({ method }) => ({ echo: method }));
   * off();
   * ```
   */
  onClientRpc(handler: ClientRpcHandler): () => void;

  /**
   * Whether a device has a live session.
   * @param device The device.
   * @returns `true` if connected.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.isConnected("d1")); // false
   * ```
   */
  isConnected(device: DeviceRef): boolean;
  /**
   * Closes a device's session from the server side: v5 sessions first get DISCONNECT
   * with `reasonCode`, 3.1.1 sessions are just closed.
   * @param device The device.
   * @param options `reasonCode` for v5 (default 0x98 Administrative action).
   * @returns `true` if a session was closed.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator({ devices: [{ name: "d1" }] });
   * console.log(tb.disconnect("d1")); // false
   * ```
   */
  disconnect(device: DeviceRef, options?: { reasonCode?: number }): boolean;

  /**
   * Adds an event listener.
   * @param listener Called synchronously for every event.
   * @returns A function that removes the listener.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * const off = tb.on((e) => console.log(e.type));
   * off();
   * ```
   */
  on(listener: EventListener): () => void;
  /**
   * Waits for the next event of a type that satisfies `predicate`. Create the promise before
   * triggering the event, or pass `since`.
   * @param type Event type.
   * @param predicate Extra condition.
   * @param options Timeout, signal and `since`.
   * @returns The event.
   * @throws {DOMException} `TimeoutError` on timeout, `AbortError` when aborted or the emulator closes.
   * @example
   * ```ts ignore
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * const e = await tb.waitFor("connect", (e) => e.device === "d1", { timeout: 5000 });
   * ```
   */
  waitFor<T extends EmulatorEventType>(
    type: T,
    predicate?: (event: EmulatorEventOf<T>) => boolean,
    options?: WaitForOptions,
  ): Promise<EmulatorEventOf<T>>;
  /**
   * Recorded events (the latest 10,000), oldest first.
   * @returns The events.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * await using tb = await startEmulator();
   * console.log(tb.events()[0]?.type); // "listening"
   * ```
   */
  events(): readonly EmulatorEvent[];

  /**
   * Stops listening, closes every connection, rejects pending RPCs and waits, and clears
   * all timers. Idempotent.
   * @example
   * ```ts
   * import { startEmulator } from "@tbwasm/sdk/emulator";
   * const tb = await startEmulator();
   * await tb.close();
   * ```
   */
  close(): Promise<void>;
}
