/**
 * The emulator's shared state: options, store, live sessions (one per
 * device), events, timers and shared attributes.
 *
 * @module
 */

import { ReasonCode } from "../core/codec/mod.ts";
import { parseJson, quote } from "./_json.ts";
import { RpcManager } from "./rpc.ts";
import { DeviceRateLimits } from "./rate_limits.ts";
import type { Session, SessionState } from "./session.ts";
import { type DeviceRecord, Store } from "./store.ts";
import { type TypedValue, typeObject, writeObject } from "./typing.ts";
import type {
  ClientRpcHandler,
  DisconnectReason,
  EmulatorEvent,
  EmulatorEventOf,
  EmulatorEventType,
  EventListener,
  RateLimits,
  WaitForOptions,
} from "./types.ts";

/**
 * Where a device's messages go: its own connection, or a gateway connection
 * that carries it as a sub-device.
 */
export interface Endpoint {
  /** The MQTT connection. */
  readonly session: Session;
  /** Whether shared-attribute updates are delivered. */
  readonly attributesSubscribed: boolean;
  /** Whether server-side RPC is delivered. */
  readonly rpcSubscribed: boolean;
  /** Delivers a shared-attribute update (`{"k":v}` or `{"deleted":[...]}`). */
  pushAttributes(body: string): void;
  /** Delivers a server-side RPC request. */
  sendRpc(id: number, method: string, params: string): void;
  /** Ends this device session. */
  close(reason: DisconnectReason, v5ReasonCode?: number): void;
}

/** Options with defaults applied. */
export interface ResolvedOptions {
  host: string;
  port: number;
  tls: { cert: string; key: string; port: number } | undefined;
  mqtt311Only: boolean;
  clientRpcTimeout: number;
  maxPayloadSize: number;
  provisionSessionTimeout: number;
  inactivityTimeout: number;
  rateLimits: RateLimits;
  enforceRateLimits: boolean;
  maxInflightMessages: number;
}

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before `seq`, `time` and `session` are added (`device` defaults to the session's). */
export type EventInit = DistributiveOmit<EmulatorEvent, "seq" | "time" | "session" | "device"> & {
  device?: string;
};

const HISTORY = 10_000;

/** A timer handle. */
export type Timer = ReturnType<typeof setTimeout>;

interface Waiter {
  match(e: EmulatorEvent): boolean;
  resolve(e: EmulatorEvent): void;
  reject(e: unknown): void;
}

/** Shared state of a running emulator. */
export class Core {
  readonly options: ResolvedOptions;
  readonly store = new Store();
  readonly rpc: RpcManager;
  readonly sessions = new Set<Session>();
  readonly #byDevice = new Map<DeviceRecord, Endpoint>();
  readonly #listeners = new Set<EventListener>();
  readonly #waiters = new Set<Waiter>();
  readonly #history: EmulatorEvent[] = [];
  readonly #timers = new Map<Timer, Session | undefined>();
  readonly clientRpcHandlers = new Map<string | undefined, ClientRpcHandler>();
  readonly #rateLimits = new WeakMap<DeviceRecord, DeviceRateLimits>();
  readonly #gatewayRateLimits = new WeakMap<DeviceRecord, DeviceRateLimits>();
  #seq = 0;
  closed = false;

  constructor(options: ResolvedOptions) {
    this.options = options;
    this.rpc = new RpcManager(this);
  }

  /** The device's rate limits (shared by its sessions, as ThingsBoard keys them by device), or `undefined` when not enforced. */
  rateLimitsOf(record: DeviceRecord): DeviceRateLimits | undefined {
    return this.#limits(this.#rateLimits, record);
  }

  /** The aggregate limits on the traffic of the devices behind gateway `record` (`gatewayRateLimits`). */
  gatewayRateLimitsOf(record: DeviceRecord): DeviceRateLimits | undefined {
    return this.#limits(this.#gatewayRateLimits, record);
  }

  #limits(
    map: WeakMap<DeviceRecord, DeviceRateLimits>,
    record: DeviceRecord,
  ): DeviceRateLimits | undefined {
    if (!this.options.enforceRateLimits) return undefined;
    let limits = map.get(record);
    if (limits === undefined) {
      limits = new DeviceRateLimits(this.options.rateLimits);
      map.set(record, limits);
    }
    return limits;
  }

  /** Sequence number of the latest event. */
  get lastSeq(): number {
    return this.#seq;
  }

  /** The latest recorded events (up to 10,000). */
  get history(): readonly EmulatorEvent[] {
    return this.#history.slice(-HISTORY);
  }

  /** Records an event and tells listeners and waiters. */
  emit(init: EventInit, session?: Session): void {
    const device = init.device ?? session?.record?.device.name;
    const event = {
      ...init,
      seq: ++this.#seq,
      time: Date.now(),
      session: session?.id ?? 0,
      ...(device !== undefined ? { device } : {}),
    } as EmulatorEvent;
    this.#history.push(event);
    // Trimmed in batches to keep emit O(1) amortized.
    if (this.#history.length > HISTORY + 1000) {
      this.#history.splice(0, this.#history.length - HISTORY);
    }
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (e) {
        console.error("Emulator event listener failed:", e);
      }
    }
    for (const w of this.#waiters) if (w.match(event)) w.resolve(event);
  }

  /** Adds a listener; returns its remover. */
  on(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Waits for an event (see `Emulator.waitFor`). */
  waitFor<T extends EmulatorEventType>(
    type: T,
    predicate: ((e: EmulatorEventOf<T>) => boolean) | undefined,
    options: WaitForOptions = {},
  ): Promise<EmulatorEventOf<T>> {
    const match = (e: EmulatorEvent) =>
      e.type === type && (!predicate || predicate(e as EmulatorEventOf<T>));
    if (options.since !== undefined) {
      const found = this.#history.find((e) => e.seq > options.since! && match(e));
      if (found) return Promise.resolve(found as EmulatorEventOf<T>);
    }
    if (this.closed) return Promise.reject(new DOMException("Emulator is closed", "AbortError"));
    const { signal, timeout = 10_000 } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const done = () => {
        this.#waiters.delete(waiter);
        clearTimeout(timer);
        signal?.removeEventListener("abort", onAbort);
      };
      const onAbort = () => {
        done();
        reject(signal!.reason);
      };
      const waiter: Waiter = {
        match,
        resolve: (e) => {
          done();
          resolve(e as EmulatorEventOf<T>);
        },
        reject: (e) => {
          done();
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        done();
        reject(new DOMException(`Timed out waiting for a "${type}" event`, "TimeoutError"));
      }, timeout);
      signal?.addEventListener("abort", onAbort, { once: true });
      this.#waiters.add(waiter);
    });
  }

  /** Starts a timer that `close()` (and, if given, the session's end) clears. */
  setTimer(fn: () => void, ms: number, session?: Session): Timer {
    const id = setTimeout(() => {
      this.#timers.delete(id);
      fn();
    }, ms);
    this.#timers.set(id, session);
    return id;
  }

  /** Clears a timer started with {@linkcode Core.setTimer}. */
  clearTimer(id: Timer): void {
    clearTimeout(id);
    this.#timers.delete(id);
  }

  /**
   * Makes `endpoint` its device's session; a previous one is taken over
   * (`max_concurrent_sessions_per_device: 1`; a direct session gets v5 DISCONNECT 0x8E).
   */
  bind(record: DeviceRecord, endpoint: Endpoint): void {
    const previous = this.#byDevice.get(record);
    this.#byDevice.set(record, endpoint);
    if (previous && previous !== endpoint) previous.close("takenOver", ReasonCode.SessionTakenOver);
  }

  /** Forgets `endpoint` as the device's session (if it still is). */
  release(record: DeviceRecord, endpoint: Endpoint): void {
    if (this.#byDevice.get(record) === endpoint) this.#byDevice.delete(record);
  }

  /** Forgets a closed session. */
  unbind(
    session: Session,
    previous: SessionState,
    info: { reason: DisconnectReason; reasonCode?: number; error?: string },
  ): void {
    this.sessions.delete(session);
    for (const [id, owner] of this.#timers) if (owner === session) this.clearTimer(id);
    const record = session.record;
    if (record) this.release(record, session);
    session.releaseSubDevices();
    if (previous !== "new" || info.reason !== "connectionLost") {
      this.emit({
        type: "disconnect",
        reason: info.reason,
        ...(info.reasonCode !== undefined ? { reasonCode: info.reasonCode } : {}),
      }, session);
    }
  }

  /** The live session of a device (direct, or through a gateway). */
  endpointOf(record: DeviceRecord): Endpoint | undefined {
    return this.#byDevice.get(record);
  }

  /** Sets shared attributes from a JS object and pushes them to a subscribed session. */
  setShared(record: DeviceRecord, attributes: Record<string, unknown>): void {
    if (typeof attributes !== "object" || attributes === null || Array.isArray(attributes)) {
      throw new TypeError("Cannot set shared attributes: attributes must be an object");
    }
    this.setSharedValues(record, typeObject(parseJson(JSON.stringify(attributes))));
  }

  /** Sets typed shared attributes and pushes them to a subscribed session. */
  setSharedValues(record: DeviceRecord, values: Map<string, TypedValue>): void {
    if (values.size === 0) return;
    const ts = Date.now();
    for (const [k, v] of values) {
      record.sharedAttributes.delete(k);
      record.sharedAttributes.set(k, { ...v, ts });
    }
    this.#push(record, writeObject(values));
  }

  /** Deletes shared attributes and pushes `{"deleted":[...]}` to a subscribed session. */
  deleteShared(record: DeviceRecord, keys: string[]): void {
    if (!Array.isArray(keys) || keys.some((k) => typeof k !== "string")) {
      throw new TypeError("Cannot delete shared attributes: keys must be an array of strings");
    }
    const unique = [...new Set(keys)];
    if (unique.length === 0) return;
    for (const k of unique) record.sharedAttributes.delete(k);
    this.#push(record, `{"deleted":[${unique.map(quote).join(",")}]}`);
  }

  #push(record: DeviceRecord, payload: string): void {
    const endpoint = this.#byDevice.get(record);
    if (!endpoint?.attributesSubscribed) return;
    endpoint.pushAttributes(payload);
    this.emit(
      { type: "sharedAttributesPush", device: record.device.name, payload },
      endpoint.session,
    );
  }

  /** Builds `{"client":{...},"shared":{...}}` as `getAttributesKvEntries` + `toJson`. */
  attributeResponse(record: DeviceRecord, client: Set<string>, shared: Set<string>): string {
    const all = client.size === 0 && shared.size === 0;
    const pick = (scope: Map<string, { text: string }>, keys: Set<string>, wanted: boolean) =>
      [...scope].filter(([k]) => wanted && (all || keys.has(k)));
    const c = pick(record.clientAttributes, client, all || client.size > 0);
    const s = pick(record.sharedAttributes, shared, all || shared.size > 0);
    const parts: string[] = [];
    if (c.length > 0) parts.push('"client":' + writeObject(c));
    if (s.length > 0) parts.push('"shared":' + writeObject(s));
    return "{" + parts.join(",") + "}";
  }

  /** Stops timers and waiters; rejects pending RPCs. */
  close(): void {
    this.closed = true;
    for (const id of this.#timers.keys()) clearTimeout(id);
    this.#timers.clear();
    this.rpc.closeAll();
    for (const w of this.#waiters) w.reject(new DOMException("Emulator is closed", "AbortError"));
  }
}
