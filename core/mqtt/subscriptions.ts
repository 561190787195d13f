/**
 * Remembered subscriptions and SUBSCRIBE/UNSUBSCRIBE requests awaiting
 * their acknowledgement. The server keeps no session state, so every
 * remembered subscription is sent again after each reconnect.
 *
 * @module
 */

import type { Subscription } from "../codec/types.ts";

/**
 * A SUBSCRIBE or UNSUBSCRIBE request of one caller (or of the client itself
 * when resubscribing).
 *
 * @example
 * ```ts
 * import type { SubscriptionRequest } from "./subscriptions.ts";
 * const r: SubscriptionRequest = {
 *   kind: "unsubscribe", topicFilters: ["a/#"], subscriptions: [], resolve: () => {}, reject: () => {},
 * };
 * ```
 */
export interface SubscriptionRequest {
  /** Which packet the request needs. */
  kind: "subscribe" | "unsubscribe";
  /** Subscriptions (SUBSCRIBE). */
  subscriptions: Subscription[];
  /** Topic filters (UNSUBSCRIBE). */
  topicFilters: string[];
  /** Settles with the SUBACK codes (empty for UNSUBSCRIBE). */
  resolve(codes: number[]): void;
  /** Fails the request. */
  reject(error: Error): void;
  /** `true` for the client's own resubscription after a reconnect. */
  internal?: boolean;
  /** `true` once its caller gave up: its acknowledgement is awaited only to free the identifier. */
  abandoned?: boolean;
}

/**
 * Registry of subscriptions and in-progress requests.
 *
 * @example
 * ```ts
 * import { SubscriptionRegistry } from "./subscriptions.ts";
 * const reg = new SubscriptionRegistry();
 * reg.remember([{ topicFilter: "a/+", qos: 1 }]);
 * reg.active().length; // 1
 * ```
 */
export class SubscriptionRegistry {
  #active = new Map<string, Subscription>();
  #pending = new Map<number, SubscriptionRequest>();
  #unsent: SubscriptionRequest[] = [];

  /**
   * Tells whether a packet identifier belongs to a pending request.
   * @param id Packet identifier.
   * @returns `true` if it does.
   */
  hasPending(id: number): boolean {
    return this.#pending.has(id);
  }

  /**
   * Remembers subscriptions (replacing earlier ones with the same filter).
   * @param subscriptions Subscriptions.
   */
  remember(subscriptions: Subscription[]): void {
    for (const s of subscriptions) this.#active.set(s.topicFilter, s);
  }

  /**
   * Forgets topic filters.
   * @param topicFilters Filters.
   */
  forget(topicFilters: string[]): void {
    for (const f of topicFilters) this.#active.delete(f);
  }

  /** @returns The remembered subscriptions, in the order they were first made. */
  active(): Subscription[] {
    return [...this.#active.values()];
  }

  /**
   * Records a request sent with packet identifier `id`.
   * @param id Packet identifier.
   * @param request The request.
   */
  sent(id: number, request: SubscriptionRequest): void {
    this.#pending.set(id, request);
  }

  /**
   * Keeps a request until the next connection.
   * @param request The request.
   */
  defer(request: SubscriptionRequest): void {
    this.#unsent.push(request);
  }

  /**
   * Takes the request acknowledged by a SUBACK/UNSUBACK.
   * @param id Packet identifier.
   * @returns The request, if one is pending under `id`.
   */
  take(id: number): SubscriptionRequest | undefined {
    const r = this.#pending.get(id);
    if (r) this.#pending.delete(id);
    return r;
  }

  /**
   * Removes a caller's request (its signal aborted). One already sent keeps
   * its packet identifier in use until the server acknowledges it
   * [MQTT-2.2.1-3], but is not settled, resent or reported.
   * @param request The request.
   */
  cancel(request: SubscriptionRequest): void {
    for (const [id, r] of this.#pending) {
      if (r === request) this.#pending.set(id, { ...r, abandoned: true });
    }
    this.#unsent = this.#unsent.filter((r) => r !== request);
  }

  /**
   * Takes every request that still needs sending on a new connection: those
   * cut off by the lost connection first, then those made while offline.
   * Internal resubscriptions are dropped (they are rebuilt from `active()`).
   *
   * @returns The requests, in order.
   */
  takeForReconnect(): SubscriptionRequest[] {
    const out = [...this.#pending.values(), ...this.#unsent].filter((r) =>
      !r.internal && !r.abandoned
    );
    this.#pending.clear();
    this.#unsent = [];
    return out;
  }
}
