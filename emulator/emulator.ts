/**
 * {@linkcode startEmulator}: the programmatic entry point of the local
 * ThingsBoard-compatible server.
 *
 * @module
 */

import { parseRateLimit } from "./rate_limits.ts";
import { MAX_REMAINING_LENGTH, ReasonCode } from "../core/codec/mod.ts";
import { Core, type ResolvedOptions } from "./core.ts";
import { assignPackage, toPackage, unassignPackage } from "./ota.ts";
import { Server } from "./server.ts";
import { latest, toEntry } from "./store.ts";
import type {
  ClaimInfo,
  ClientRpcHandler,
  Device,
  DeviceRef,
  DeviceSpec,
  Emulator,
  EmulatorEvent,
  EmulatorEventOf,
  EmulatorEventType,
  EmulatorOptions,
  EventListener,
  KvEntry,
  KvValue,
  OtaPackageSpec,
  OtaType,
  ProvisionProfileSpec,
  SendRpcOptions,
  SessionInfo,
  WaitForOptions,
} from "./types.ts";

function nonNegativeInt(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 0) {
    throw new RangeError(`Cannot start emulator: ${name} must be a non-negative integer`);
  }
  return value;
}

function resolve(options: EmulatorOptions): ResolvedOptions {
  const rate = options.rateLimits ?? {};
  const rateLimits = {
    messages: rate.messages ?? null,
    telemetryMessages: rate.telemetryMessages ?? null,
    telemetryDataPoints: rate.telemetryDataPoints ?? null,
  };
  for (const [name, spec] of Object.entries(rateLimits)) parseRateLimit(name, spec);
  return {
    host: options.host ?? "127.0.0.1",
    port: nonNegativeInt("port", options.port, 0),
    tls: options.tls
      ? { cert: options.tls.cert, key: options.tls.key, port: options.tls.port ?? 0 }
      : undefined,
    mqtt311Only: options.mqtt311Only ?? false,
    clientRpcTimeout: nonNegativeInt("clientRpcTimeout", options.clientRpcTimeout, 60_000),
    maxPayloadSize: Math.min(
      nonNegativeInt("maxPayloadSize", options.maxPayloadSize, 65_536),
      MAX_REMAINING_LENGTH,
    ),
    provisionSessionTimeout: nonNegativeInt(
      "provisionSessionTimeout",
      options.provisionSessionTimeout,
      60_000,
    ),
    inactivityTimeout: nonNegativeInt("inactivityTimeout", options.inactivityTimeout, 600_000),
    rateLimits,
    enforceRateLimits: options.enforceRateLimits ?? true,
    maxInflightMessages: nonNegativeInt("maxInflightMessages", options.maxInflightMessages, 100),
  };
}

/**
 * Starts a local ThingsBoard-compatible MQTT server.
 *
 * @param options Port, host, TLS, devices, profiles and behaviour options.
 * @returns The running emulator; close it with `close()` or `await using`.
 * @throws {RangeError} for invalid numeric options.
 * @throws {TypeError} for invalid devices or profiles.
 * @throws {Deno.errors.AddrInUse} if the port is taken.
 *
 * @example Start, create a device, stop
 * ```ts
 * import { startEmulator } from "@tbwasm/sdk/emulator";
 * await using tb = await startEmulator({ port: 0 });
 * const device = tb.createDevice({ name: "thermostat", accessToken: "THERMO_TOKEN" });
 * console.log(`mqtt://${tb.host}:${tb.port}`, device.accessToken);
 * ```
 */
// deno-lint-ignore require-await
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const core = new Core(resolve(options));
  for (const p of options.profiles ?? []) core.store.addProfile(p);
  for (const d of options.devices ?? []) core.store.createDevice(d);
  if (options.onEvent) core.on(options.onEvent);
  const server = new Server(core);
  server.listen();
  core.emit({
    type: "listening",
    port: server.port,
    ...(server.tlsPort !== undefined ? { tlsPort: server.tlsPort } : {}),
  });
  return new EmulatorImpl(core, server);
}

class EmulatorImpl implements Emulator {
  readonly #core: Core;
  readonly #server: Server;
  #closing: Promise<void> | undefined;

  constructor(core: Core, server: Server) {
    this.#core = core;
    this.#server = server;
  }

  get host(): string {
    return this.#core.options.host;
  }
  get port(): number {
    return this.#server.port;
  }
  get tlsPort(): number | undefined {
    return this.#server.tlsPort;
  }
  get devices(): readonly Device[] {
    return this.#core.store.devices;
  }
  get sessions(): readonly SessionInfo[] {
    return [...this.#core.sessions].map((s) =>
      Object.freeze({
        id: s.id,
        device: s.device,
        kind: s.kind,
        clientId: s.clientId,
        protocolVersion: s.protocolVersion,
        subscriptions: new Map(s.subscriptions),
        tls: s.tls,
      })
    );
  }
  get lastSeq(): number {
    return this.#core.lastSeq;
  }

  createDevice(spec: DeviceSpec): Device {
    return this.#core.store.createDevice(spec).device;
  }
  getDevice(name: string): Device | undefined {
    return this.#core.store.find(name)?.device;
  }
  deleteDevice(device: DeviceRef): void {
    const record = this.#core.store.get(device);
    this.#core.store.deleteDevice(record);
    this.#core.rpc.dropDevice(record);
    this.#core.endpointOf(record)?.close("server", ReasonCode.AdministrativeAction);
  }
  createProvisionProfile(spec: ProvisionProfileSpec): void {
    this.#core.store.addProfile(spec);
  }

  setSharedAttributes(device: DeviceRef, attributes: Record<string, unknown>): void {
    this.#core.setShared(this.#core.store.get(device), attributes);
  }
  deleteSharedAttributes(device: DeviceRef, keys: string[]): void {
    this.#core.deleteShared(this.#core.store.get(device), keys);
  }
  getSharedAttributes(device: DeviceRef): Record<string, KvValue> {
    return values(this.getAttributeEntries(device, "shared"));
  }
  getClientAttributes(device: DeviceRef): Record<string, KvValue> {
    return values(this.getAttributeEntries(device, "client"));
  }
  getAttributeEntries(device: DeviceRef, scope: "client" | "shared"): Record<string, KvEntry> {
    const record = this.#core.store.get(device);
    const map = scope === "client" ? record.clientAttributes : record.sharedAttributes;
    const out: Record<string, KvEntry> = {};
    for (const [k, v] of map) define(out, k, toEntry(v));
    return out;
  }
  getTelemetry(device: DeviceRef): Record<string, KvEntry[]> {
    const out: Record<string, KvEntry[]> = {};
    for (const [k, series] of this.#core.store.get(device).telemetry) {
      define(out, k, series.map(toEntry));
    }
    return out;
  }
  getLatestTelemetry(device: DeviceRef): Record<string, KvEntry> {
    const out: Record<string, KvEntry> = {};
    for (const [k, series] of this.#core.store.get(device).telemetry) {
      const point = latest(series);
      if (point) define(out, k, toEntry(point));
    }
    return out;
  }
  getClaims(device: DeviceRef): ClaimInfo | undefined {
    const claim = this.#core.store.get(device).claim;
    return claim ? { ...claim } : undefined;
  }

  assignOtaPackage(device: DeviceRef, pkg: OtaPackageSpec): void {
    assignPackage(this.#core, this.#core.store.get(device), toPackage(pkg));
  }
  unassignOtaPackage(device: DeviceRef, type: OtaType = "firmware"): void {
    if (type !== "firmware" && type !== "software") {
      throw new TypeError(`Cannot unassign OTA package: unknown type "${type}"`);
    }
    unassignPackage(this.#core, this.#core.store.get(device), type);
  }

  sendRpc(
    device: DeviceRef,
    method: string,
    params?: unknown,
    options?: SendRpcOptions,
  ): Promise<unknown> {
    let record;
    try {
      record = this.#core.store.get(device);
    } catch (e) {
      return Promise.reject(e);
    }
    return this.#core.rpc.send(record, method, params, options);
  }

  onClientRpc(method: string, handler: ClientRpcHandler): () => void;
  onClientRpc(handler: ClientRpcHandler): () => void;
  onClientRpc(a: string | ClientRpcHandler, b?: ClientRpcHandler): () => void {
    const method = typeof a === "string" ? a : undefined;
    const handler = typeof a === "function" ? a : b;
    if (typeof handler !== "function") {
      throw new TypeError("Cannot register client RPC handler: handler must be a function");
    }
    const handlers = this.#core.clientRpcHandlers;
    handlers.set(method, handler);
    return () => {
      if (handlers.get(method) === handler) handlers.delete(method);
    };
  }

  isConnected(device: DeviceRef): boolean {
    return this.#core.endpointOf(this.#core.store.get(device)) !== undefined;
  }
  disconnect(device: DeviceRef, options: { reasonCode?: number } = {}): boolean {
    const endpoint = this.#core.endpointOf(this.#core.store.get(device));
    if (!endpoint) return false;
    endpoint.close("server", options.reasonCode ?? ReasonCode.AdministrativeAction);
    return true;
  }

  on(listener: EventListener): () => void {
    return this.#core.on(listener);
  }
  waitFor<T extends EmulatorEventType>(
    type: T,
    predicate?: (event: EmulatorEventOf<T>) => boolean,
    options?: WaitForOptions,
  ): Promise<EmulatorEventOf<T>> {
    return this.#core.waitFor(type, predicate, options);
  }
  events(): readonly EmulatorEvent[] {
    return this.#core.history;
  }

  close(): Promise<void> {
    this.#closing ??= this.#server.close().then(() => this.#core.close());
    return this.#closing;
  }
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

function define<T>(o: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(o, key, { value, enumerable: true, writable: true, configurable: true });
}

function values(entries: Record<string, KvEntry>): Record<string, KvValue> {
  const out: Record<string, KvValue> = {};
  for (const [k, e] of Object.entries(entries)) define(out, k, e.value);
  return out;
}
