/**
 * SUBSCRIBE and UNSUBSCRIBE requests of a client: sent on the current
 * connection or kept for the next one, and the resubscription after each
 * reconnect, within the server's Maximum Packet Size. Private to the client.
 *
 * @module
 */

import type { Packet, Subscription } from "../codec/types.ts";
import { asError, type Connection } from "./_connection.ts";
import { abortError } from "./_dom_errors.ts";
import { PayloadTooLargeError } from "./errors.ts";
import { batchSubscriptions } from "./_subscribe_batches.ts";
import type { SubscriptionRegistry, SubscriptionRequest } from "./subscriptions.ts";

/** What subscription requests need of their outbox. */
export interface RequestTarget {
  /** The open connection (also while closing), or `undefined`. */
  readonly conn: Connection | undefined;
  /** `true` while requests may go straight to the connection (state `"connected"`). */
  readonly accepting: boolean;
  /** Largest packet the server accepts now. */
  readonly maxPacketSize: number;
  /** A free packet identifier, or 0 when all are in use. */
  nextId(): number;
}

/** Subscribe/unsubscribe requests and the remembered subscriptions they keep up to date. */
export class SubscriptionRequests {
  readonly #out: RequestTarget;
  readonly #subs: SubscriptionRegistry;
  readonly #lengthOf: (packet: Packet) => number;
  readonly #onError: (error: Error) => void;

  /**
   * @param out The outbox (connection, limits, packet identifiers).
   * @param subs Remembered subscriptions and pending requests.
   * @param lengthOf Exact encoded size of a packet on the current protocol level.
   * @param onError Told about failures nobody awaits.
   */
  constructor(
    out: RequestTarget,
    subs: SubscriptionRegistry,
    lengthOf: (packet: Packet) => number,
    onError: (error: Error) => void,
  ) {
    this.#out = out;
    this.#subs = subs;
    this.#lengthOf = lengthOf;
    this.#onError = onError;
  }

  /** Subscribes (remembering the subscriptions); settles with the SUBACK codes. */
  subscribe(subs: Subscription[], signal: AbortSignal | undefined): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => {
      if (signal?.aborted) throw abortError("Cannot subscribe: aborted", signal);
      this.#subs.remember(subs);
      const request: SubscriptionRequest = {
        kind: "subscribe",
        subscriptions: subs,
        topicFilters: [],
        resolve: (codes) => (signal?.removeEventListener("abort", onAbort), resolve(codes)),
        reject: (e) => (signal?.removeEventListener("abort", onAbort), reject(e)),
      };
      const onAbort = () => {
        this.#subs.cancel(request);
        this.#subs.forget(subs.map((s) => s.topicFilter));
        reject(abortError("Cannot subscribe: aborted", signal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.request(request);
    });
  }

  /** Forgets topic filters and unsubscribes; offline it resolves at once. */
  unsubscribe(filters: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#subs.forget(filters);
      if (!this.#out.accepting || !this.#out.conn) return resolve();
      this.request({
        kind: "unsubscribe",
        subscriptions: [],
        topicFilters: filters,
        resolve: () => resolve(),
        reject,
      });
    });
  }

  /**
   * Sends a SUBSCRIBE/UNSUBSCRIBE now, or keeps it for the next connection.
   * One kept while offline may meet a smaller server Maximum Packet Size: it
   * fails with {@linkcode PayloadTooLargeError} instead [MQTT-3.2.2-15].
   */
  request(request: SubscriptionRequest): void {
    const conn = this.#out.conn;
    if (!conn || !this.#out.accepting) return this.#subs.defer(request);
    const packet: Packet = request.kind === "subscribe"
      ? { type: "subscribe", packetId: 1, subscriptions: request.subscriptions }
      : { type: "unsubscribe", packetId: 1, topicFilters: request.topicFilters };
    try {
      const size = this.#lengthOf(packet);
      const limit = this.#out.maxPacketSize;
      if (size > limit) {
        if (request.kind === "subscribe") {
          this.#subs.forget(request.subscriptions.map((s) => s.topicFilter));
        }
        throw new PayloadTooLargeError(size, limit, packet.type.toUpperCase());
      }
    } catch (e) {
      return request.reject(asError(e));
    }
    const id = this.#out.nextId();
    if (id === 0) {
      return request.reject(
        new RangeError(
          `Cannot ${request.kind}: all 65535 packet identifiers are in use; ` +
            "await pending publishes and requests first",
        ),
      );
    }
    packet.packetId = id;
    this.#subs.sent(id, request);
    try {
      conn.send(packet);
    } catch (e) {
      this.#subs.take(id);
      request.reject(asError(e));
    }
  }

  /**
   * On a new connection (the server keeps no session): sends the requests
   * the last connection cut off or that were made offline, and subscribes
   * again to the other remembered subscriptions.
   */
  resume(): void {
    const requests = this.#subs.takeForReconnect();
    const covered = new Set<string>();
    for (const r of requests) for (const s of r.subscriptions) covered.add(s.topicFilter);
    this.#resubscribe(this.#subs.active().filter((s) => !covered.has(s.topicFilter)));
    for (const r of requests) {
      if (r.kind === "unsubscribe") r.resolve([]); // the new session has no subscriptions to remove
      else this.request(r);
    }
  }

  /**
   * Subscribes again to remembered subscriptions, in as many SUBSCRIBE
   * packets as the server's Maximum Packet Size needs [MQTT-3.2.2-15]. A
   * subscription too large for any packet is reported and forgotten.
   */
  #resubscribe(subscriptions: Subscription[]): void {
    const limit = this.#out.maxPacketSize;
    const { batches, tooLarge } = batchSubscriptions(
      subscriptions,
      limit,
      (subs) => this.#lengthOf({ type: "subscribe", packetId: 1, subscriptions: subs }),
    );
    for (const { subscription, size } of tooLarge) {
      this.#subs.forget([subscription.topicFilter]);
      const filter = subscription.topicFilter;
      const shown = filter.length > 64 ? `${filter.slice(0, 61)}...` : filter;
      this.#onError(
        new PayloadTooLargeError(size, limit, `SUBSCRIBE (topic filter ${JSON.stringify(shown)})`),
      );
    }
    for (const batch of batches) {
      this.request({
        kind: "subscribe",
        subscriptions: batch,
        topicFilters: [],
        internal: true,
        resolve: () => {},
        reject: (e) => this.#onError(e),
      });
    }
  }

  /**
   * The client stopped: subscribe requests wait for the next connect(),
   * unsubscribe requests are done (no session to remove them from).
   */
  suspend(): void {
    for (const r of this.#subs.takeForReconnect()) {
      if (r.kind === "subscribe") this.#subs.defer(r); // made again on the next connect()
      else r.resolve([]);
    }
  }
}
