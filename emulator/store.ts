/**
 * The emulator's data: devices and their credentials, provision profiles,
 * attributes, telemetry and claims. Pure (no I/O).
 *
 * @module
 */

import type { OtaPackage } from "./ota.ts";
import type { TsGroup, TypedValue } from "./typing.ts";
import type {
  ClaimInfo,
  Device,
  DeviceCredentials,
  DeviceRef,
  DeviceSpec,
  KvEntry,
  OtaType,
  ProvisionProfileSpec,
} from "./types.ts";

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

/** A random alphanumeric string, as ThingsBoard's `StringUtils.randomAlphanumeric`. */
export function randomAlphanumeric(length: number): string {
  const bytes = crypto.getRandomValues(new Uint8Array(length));
  let s = "";
  for (const b of bytes) s += ALNUM[b % ALNUM.length];
  return s;
}

/** Data points kept per telemetry key. */
const MAX_POINTS = 10_000;

/** A stored value with its time. */
export interface StoredKv extends TypedValue {
  ts: number;
}

/** Everything stored about one device. */
export interface DeviceRecord {
  device: Device;
  /** Credentials lookup key (see {@linkcode credentialsId}). */
  credentialsId: string;
  clientAttributes: Map<string, StoredKv>;
  sharedAttributes: Map<string, StoredKv>;
  telemetry: Map<string, StoredKv[]>;
  claim: ClaimInfo | undefined;
  /** Next server-side RPC id (ThingsBoard's per-device `rpcSeq`, from 0). */
  rpcSeq: number;
  /** Assigned OTA packages. */
  ota: Map<OtaType, OtaPackage>;
}

/** Basic MQTT credentials as the client presents them in CONNECT. */
export interface PresentedCredentials {
  clientId: string;
  userName: string | undefined;
  password: string | undefined;
}

/**
 * The credentials id ThingsBoard indexes credentials by: the token; for MQTT
 * basic the user name alone, or (a stand-in for the SHA3 hash of) the client
 * id, or client id and user name joined by `|`.
 */
function credentialsId(c: DeviceCredentials): string {
  if (c.type === "ACCESS_TOKEN") return c.accessToken;
  if (!c.clientId) return c.userName ?? "";
  if (!c.userName) return "\0cid\0" + c.clientId;
  return "\0cu\0" + c.clientId + "|" + c.userName;
}

/** Checks MQTT basic credentials the way ThingsBoard's device-credentials service does. */
export function validateBasic(
  c: { clientId?: string; userName?: string; password?: string },
): string | undefined {
  if (!c.clientId && !c.userName) return "Both mqtt client id and user name are empty!";
  if (c.clientId && c.password && !c.userName) {
    return "Password cannot be specified along with client id";
  }
  return undefined;
}

type Match = "valid" | "passwordMismatch" | "hashMismatch";

function matchBasic(stored: DeviceCredentials, p: PresentedCredentials): Match {
  if (stored.type !== "MQTT_BASIC") return "hashMismatch";
  if (stored.clientId && stored.clientId !== p.clientId) return "hashMismatch";
  if (stored.userName && stored.userName !== (p.userName ?? "")) return "hashMismatch";
  if (stored.password) return stored.password === p.password ? "valid" : "passwordMismatch";
  return "valid";
}

/** Devices, credentials and profiles. */
export class Store {
  readonly #byName = new Map<string, DeviceRecord>();
  readonly #byCredentials = new Map<string, DeviceRecord>();
  readonly #profiles = new Map<string, ProvisionProfileSpec>();

  /** All devices in creation order. */
  get devices(): Device[] {
    return [...this.#byName.values()].map((r) => r.device);
  }

  /** Creates a device; throws `TypeError` for bad or duplicate names or credentials. */
  createDevice(spec: DeviceSpec, provisioned = false): DeviceRecord {
    if (typeof spec?.name !== "string" || spec.name.trim() === "") {
      throw new TypeError("Cannot create device: name must be a non-empty string");
    }
    if (this.#byName.has(spec.name)) {
      throw new TypeError(`Cannot create device: a device named "${spec.name}" already exists`);
    }
    if (spec.accessToken !== undefined && spec.credentials !== undefined) {
      throw new TypeError("Cannot create device: give either accessToken or credentials, not both");
    }
    let credentials: DeviceCredentials;
    if (spec.credentials !== undefined) {
      const problem = validateBasic(spec.credentials);
      if (problem) throw new TypeError(`Cannot create device: ${problem}`);
      credentials = { type: "MQTT_BASIC", ...spec.credentials };
    } else {
      const token = spec.accessToken ?? randomAlphanumeric(20);
      if (typeof token !== "string" || token === "") {
        throw new TypeError("Cannot create device: accessToken must be a non-empty string");
      }
      credentials = { type: "ACCESS_TOKEN", accessToken: token };
    }
    const id = credentialsId(credentials);
    if (this.#byCredentials.has(id)) {
      throw new TypeError("Cannot create device: the credentials are already in use");
    }
    const device: Device = Object.freeze({
      id: crypto.randomUUID(),
      name: spec.name,
      accessToken: credentials.type === "ACCESS_TOKEN" ? credentials.accessToken : undefined,
      credentials: Object.freeze(credentials),
      gateway: spec.gateway ?? false,
      profile: spec.profile ?? "default",
      createdTime: Date.now(),
      provisioned,
    });
    const record: DeviceRecord = {
      device,
      credentialsId: id,
      clientAttributes: new Map(),
      sharedAttributes: new Map(),
      telemetry: new Map(),
      claim: undefined,
      rpcSeq: 0,
      ota: new Map(),
    };
    this.#byName.set(device.name, record);
    this.#byCredentials.set(id, record);
    return record;
  }

  /** Marks a device as provisioned. */
  markProvisioned(record: DeviceRecord): void {
    record.device = Object.freeze({ ...record.device, provisioned: true });
  }

  /** Removes a device. */
  deleteDevice(record: DeviceRecord): void {
    this.#byName.delete(record.device.name);
    this.#byCredentials.delete(record.credentialsId);
  }

  /** Finds a device by name. */
  find(name: string): DeviceRecord | undefined {
    return this.#byName.get(name);
  }

  /** Resolves a reference; throws `TypeError` for unknown devices. */
  get(ref: DeviceRef): DeviceRecord {
    const name = typeof ref === "string" ? ref : ref?.name;
    const record = name === undefined ? undefined : this.#byName.get(name);
    if (!record) {
      throw new TypeError(
        `Unknown device "${String(name)}": create it with createDevice() first`,
      );
    }
    return record;
  }

  /**
   * Finds the device for CONNECT credentials, following ThingsBoard's
   * `validateCredentials` for basic MQTT credentials and access tokens.
   */
  authenticate(p: PresentedCredentials): DeviceRecord | undefined {
    if (!p.userName) {
      const r = this.#byCredentials.get("\0cid\0" + p.clientId);
      return r && matchBasic(r.device.credentials, p) === "valid" ? r : undefined;
    }
    const r = this.#byCredentials.get("\0cu\0" + p.clientId + "|" + p.userName);
    if (r && r.device.credentials.type === "MQTT_BASIC") {
      const m = matchBasic(r.device.credentials, p);
      if (m === "valid") return r;
      if (m === "passwordMismatch") return undefined;
    }
    const byUser = this.#byCredentials.get(p.userName);
    if (!byUser) return undefined;
    if (byUser.device.credentials.type === "ACCESS_TOKEN") return byUser;
    return matchBasic(byUser.device.credentials, p) === "valid" ? byUser : undefined;
  }

  /** Adds a provision profile; throws `TypeError` for bad or duplicate names or keys. */
  addProfile(spec: ProvisionProfileSpec): void {
    for (const field of ["name", "provisionKey", "provisionSecret"] as const) {
      if (typeof spec?.[field] !== "string" || spec[field] === "") {
        throw new TypeError(`Cannot create provision profile: ${field} must be a non-empty string`);
      }
    }
    if (
      spec.strategy !== "allowCreateNewDevices" && spec.strategy !== "checkPreProvisionedDevices"
    ) {
      throw new TypeError(`Cannot create provision profile: unknown strategy "${spec.strategy}"`);
    }
    for (const p of this.#profiles.values()) {
      if (p.name === spec.name || p.provisionKey === spec.provisionKey) {
        throw new TypeError(
          "Cannot create provision profile: name or provision key already in use",
        );
      }
    }
    this.#profiles.set(spec.provisionKey, { ...spec });
  }

  /** Finds a profile by provision key. */
  profileByKey(key: string): ProvisionProfileSpec | undefined {
    return this.#profiles.get(key);
  }

  /** Whether credentials are taken. */
  credentialsTaken(c: DeviceCredentials): boolean {
    return this.#byCredentials.has(credentialsId(c));
  }
}

/** Converts stored values to public entries. */
export function toEntry(kv: StoredKv): KvEntry {
  return { ts: kv.ts, value: kv.value, type: kv.type };
}

/** Stores a ts group of telemetry. */
export function storeTelemetry(record: DeviceRecord, ts: number, values: Map<string, TypedValue>) {
  for (const [key, v] of values) {
    let series = record.telemetry.get(key);
    if (!series) record.telemetry.set(key, series = []);
    series.push({ ...v, ts });
    // Keep the latest MAX_POINTS points per key (trimmed in batches).
    if (series.length > MAX_POINTS + 1000) series.splice(0, series.length - MAX_POINTS);
  }
}

/** Stores received telemetry; returns it per key, as the `telemetry` event reports it. */
export function storeTelemetryGroups(
  record: DeviceRecord,
  groups: TsGroup[],
): Record<string, KvEntry[]> {
  const values: Record<string, KvEntry[]> = {};
  for (const g of groups) {
    storeTelemetry(record, g.ts, g.values);
    for (const [k, v] of g.values) (values[k] ??= []).push(toEntry({ ...v, ts: g.ts }));
  }
  return values;
}

/**
 * Stores received client attributes (each moves to the end of the insertion order);
 * returns them as the `attributes` event reports them.
 */
export function storeClientAttributes(
  record: DeviceRecord,
  attrs: Map<string, TypedValue>,
  ts: number,
): Record<string, KvEntry> {
  const values: Record<string, KvEntry> = {};
  for (const [k, v] of attrs) {
    const stored = { ...v, ts };
    record.clientAttributes.delete(k);
    record.clientAttributes.set(k, stored);
    values[k] = toEntry(stored);
  }
  return values;
}

/** Number of data points in telemetry groups (what the telemetry rate limits count). */
export function pointCount(groups: TsGroup[]): number {
  let points = 0;
  for (const g of groups) points += g.values.size;
  return points;
}

/** The latest point of a series: highest ts, the last to arrive on ties. */
export function latest(series: StoredKv[]): StoredKv | undefined {
  let best: StoredKv | undefined;
  for (const p of series) if (!best || p.ts >= best.ts) best = p;
  return best;
}
