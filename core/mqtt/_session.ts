/**
 * The session engine of {@linkcode MqttClient}: the requests a client makes
 * (publish, subscribe, unsubscribe), checked against the current server's
 * limits, on top of the {@linkcode Lifecycle}. Private to `core/mqtt`.
 *
 * @module
 */

import type { PublishPacket, Subscription } from "../codec/types.ts";
import { abortError } from "./_dom_errors.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { PublishResult } from "./inflight.ts";
import { Lifecycle } from "./_lifecycle.ts";
import { checkRequestSize } from "./_limits.ts";
import type { ClientState, PublishOptions } from "./options.ts";
import { buildPublish, checkSubscriptions, checkTopicFilters } from "./_validate.ts";

/**
 * The engine behind {@linkcode MqttClient}: lifecycle (inherited), requests
 * and the outbox. The public class is a documented facade over it.
 */
export class Session extends Lifecycle {
  /** Current lifecycle state. */
  get state(): ClientState {
    return this.clientState;
  }

  /** `true` while a session is open (state `"connected"` or `"closing"`). */
  get connected(): boolean {
    return this.out.conn !== undefined &&
      (this.clientState === "connected" || this.clientState === "closing");
  }

  /** Negotiated protocol level (the requested one before the first connection). */
  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  /** The error that ended the last connection or connection attempt. */
  get lastError(): Error | undefined {
    return this.lastFailure;
  }

  /** Largest packet the client may send: the server's Maximum Packet Size or `maxPacketSize`, whichever is smaller. */
  get maxPacketSize(): number {
    return this.out.maxPacketSize;
  }

  /** Messages accepted and not yet acknowledged (QoS 1) or written (QoS 0): queued plus in flight. */
  get pendingCount(): number {
    return this.out.pendingCount;
  }

  publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<PublishResult> {
    try {
      return this.out.publish(this.#prepare(topic, payload, options), options?.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  publishNoWait(topic: string, payload: Uint8Array, options?: PublishOptions): void {
    this.out.submit(this.#prepare(topic, payload, options));
  }

  subscribe(
    subscriptions: Subscription[],
    options: { signal?: AbortSignal } = {},
  ): Promise<number[]> {
    try {
      const subs = checkSubscriptions(subscriptions);
      checkRequestSize(this.codec, this.version, this.out.maxPacketSize, {
        type: "subscribe",
        packetId: 1,
        subscriptions: subs,
      });
      return this.out.requests.subscribe(subs, options.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  unsubscribe(topicFilters: string[]): Promise<void> {
    try {
      const filters = checkTopicFilters(topicFilters);
      checkRequestSize(this.codec, this.version, this.out.maxPacketSize, {
        type: "unsubscribe",
        packetId: 1,
        topicFilters: filters,
      });
      return this.out.requests.unsubscribe(filters);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  #prepare(topic: string, payload: Uint8Array, options: PublishOptions | undefined): PublishPacket {
    if (this.clientState === "closing") {
      throw new ConnectionClosedError("Cannot publish: the client is disconnecting");
    }
    if (this.signal?.aborted) {
      throw abortError("Cannot publish: the client was aborted", this.signal);
    }
    const packet = buildPublish(topic, payload, options);
    this.out.checkSendable(packet);
    return packet;
  }
}
