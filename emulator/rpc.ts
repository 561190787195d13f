/**
 * Server-side RPC bookkeeping: per-device ids (from 0, like ThingsBoard's
 * `rpcSeq`), requests waiting for a subscribed session, delivery, replies,
 * timeouts and one-way calls.
 *
 * @module
 */

import { parseJson, stringify } from "./_json.ts";
import type { Core } from "./core.ts";
import type { DeviceRecord } from "./store.ts";
import type { SendRpcOptions } from "./types.ts";

interface PendingRpc {
  id: number;
  method: string;
  params: string;
  oneway: boolean;
  sent: boolean;
  resolve(value: unknown): void;
  reject(reason: unknown): void;
}

/** Pending server-side RPCs of all devices. */
export class RpcManager {
  readonly #core: Core;
  readonly #pending = new Map<DeviceRecord, Map<number, PendingRpc>>();

  constructor(core: Core) {
    this.#core = core;
  }

  /** Sends an RPC (see `Emulator.sendRpc`). */
  send(
    record: DeviceRecord,
    method: string,
    params: unknown,
    options: SendRpcOptions = {},
  ): Promise<unknown> {
    if (typeof method !== "string" || method === "") {
      return Promise.reject(new TypeError("Cannot send RPC: method must be a non-empty string"));
    }
    let paramsText: string;
    try {
      const json = JSON.stringify(params === undefined ? {} : params);
      if (json === undefined) throw new TypeError("params are not JSON-serializable");
      paramsText = stringify(parseJson(json));
    } catch (e) {
      const why = e instanceof Error ? e.message : String(e);
      return Promise.reject(new TypeError(`Cannot send RPC: ${why}`));
    }
    if (this.#core.closed) {
      return Promise.reject(new DOMException("Emulator is closed", "AbortError"));
    }
    const { signal, timeout = 10_000, oneway = false } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const id = record.rpcSeq++;
    return new Promise((resolve, reject) => {
      const finish = () => {
        this.#core.clearTimer(timer);
        signal?.removeEventListener("abort", onAbort);
        this.#pending.get(record)?.delete(id);
      };
      const onAbort = () => {
        finish();
        reject(signal!.reason);
      };
      const timer = this.#core.setTimer(() => {
        finish();
        reject(
          new DOMException(`RPC "${method}" to "${record.device.name}" timed out`, "TimeoutError"),
        );
      }, timeout);
      signal?.addEventListener("abort", onAbort, { once: true });
      const rpc: PendingRpc = {
        id,
        method,
        params: paramsText,
        oneway,
        sent: false,
        resolve: (v) => {
          finish();
          resolve(v);
        },
        reject: (e) => {
          finish();
          reject(e);
        },
      };
      let map = this.#pending.get(record);
      if (!map) this.#pending.set(record, map = new Map());
      map.set(id, rpc);
      this.flush(record);
    });
  }

  /**
   * Sends pending requests of a device to its session, if it is subscribed to RPC:
   * the unsent ones, or (on a new RPC subscription, as ThingsBoard's
   * `sendPendingRequests`) every request still waiting for a reply.
   */
  flush(record: DeviceRecord, all = false): void {
    const endpoint = this.#core.endpointOf(record);
    const map = this.#pending.get(record);
    if (!endpoint?.rpcSubscribed || !map) return;
    for (const rpc of [...map.values()]) {
      if (rpc.sent && !all) continue;
      rpc.sent = true;
      endpoint.sendRpc(rpc.id, rpc.method, rpc.params);
      this.#core.emit(
        { type: "rpcRequest", device: record.device.name, requestId: rpc.id, method: rpc.method },
        endpoint.session,
      );
      if (rpc.oneway) rpc.resolve(undefined);
    }
  }

  /** A reply arrived; late or unknown replies are ignored. */
  reply(record: DeviceRecord, id: number, payload: string): void {
    const rpc = this.#pending.get(record)?.get(id);
    if (!rpc || rpc.oneway) return;
    let value: unknown = payload;
    try {
      value = JSON.parse(payload);
    } catch {
      // not JSON: the raw string
    }
    rpc.resolve(value);
  }

  /** Rejects every pending request of a device (deleted). */
  dropDevice(record: DeviceRecord): void {
    for (const rpc of [...(this.#pending.get(record)?.values() ?? [])]) {
      rpc.reject(new DOMException(`Device "${record.device.name}" was deleted`, "AbortError"));
    }
    this.#pending.delete(record);
  }

  /** Rejects everything (emulator closing). */
  closeAll(): void {
    for (const map of this.#pending.values()) {
      for (const rpc of [...map.values()]) {
        rpc.reject(new DOMException("Emulator is closed", "AbortError"));
      }
    }
    this.#pending.clear();
  }
}
