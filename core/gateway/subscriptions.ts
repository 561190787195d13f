/**
 * The local registry of shared-attribute subscriptions of devices behind
 * the gateway (ThingsBoard pushes every update on one topic; filtering by
 * device happens here). It lives as long as the client, across reconnects.
 *
 * @module
 */

import type { GatewayAttributeUpdate } from "./messages.ts";

/**
 * Receives shared-attribute updates of devices behind the gateway. What it
 * throws (or its Promise rejects with) is logged and reported through the
 * client's `error` event.
 *
 * @example
 * ```ts
 * import type { GatewayAttributeCallback } from "@tbwasm/sdk/gateway";
 * const cb: GatewayAttributeCallback = ({ device, values }) => console.log(device, values);
 * ```
 */
export type GatewayAttributeCallback = (update: GatewayAttributeUpdate) => void | Promise<void>;

/** Subscriptions by id. */
export class GatewaySubscriptions {
  #next = 1;
  #subscriptions = new Map<
    number,
    { device: string | undefined; callback: GatewayAttributeCallback }
  >();

  /** Number of subscriptions. */
  get size(): number {
    return this.#subscriptions.size;
  }

  /**
   * Adds a subscription.
   *
   * @param device A device name, or `undefined` for every device.
   * @param callback Receives the updates.
   * @returns The subscription id (from 1, never reused).
   */
  add(device: string | undefined, callback: GatewayAttributeCallback): number {
    const id = this.#next++;
    this.#subscriptions.set(id, { device, callback });
    return id;
  }

  /**
   * Removes a subscription.
   *
   * @param id Its id.
   * @returns `false` when there was no such subscription.
   */
  remove(id: number): boolean {
    return this.#subscriptions.delete(id);
  }

  /**
   * The callbacks an update concerns, in subscription order.
   *
   * @param device The device the update is for.
   * @returns The callbacks.
   */
  match(device: string): GatewayAttributeCallback[] {
    const out: GatewayAttributeCallback[] = [];
    for (const s of this.#subscriptions.values()) {
      if (s.device === undefined || s.device === device) out.push(s.callback);
    }
    return out;
  }
}
