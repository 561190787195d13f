/**
 * The outgoing side of a client: the bounded queue, the in-flight window,
 * packet identifiers and subscription requests, moved onto the current
 * connection as room allows. Private to the client.
 *
 * @module
 */

import type { PublishPacket, Subscription } from "../codec/types.ts";
import type { Clock, TimerHandle } from "./clock.ts";
import { asError, type Connection } from "./_connection.ts";
import { PayloadTooLargeError } from "./errors.ts";
import { AckNudge } from "./_ack_nudge.ts";
import { abortError, timeoutError } from "./_dom_errors.ts";
import { InflightTable, type PublishResult, type Reject, type Resolve } from "./inflight.ts";
import { PacketIdAllocator } from "./packet_id.ts";
import { MessageQueue, type QueueOptions } from "./queue.ts";
import { SubscriptionRegistry, type SubscriptionRequest } from "./subscriptions.ts";
import { publishSizeBound } from "./_validate.ts";

/** Buffered bytes above which new messages wait in the queue. */
const HIGH_WATER_MARK = 1 << 20;

/** Queue, in-flight window and subscription requests of one client. */
export class Outbox {
  readonly inflight: InflightTable;
  readonly queue: MessageQueue;
  readonly subs: SubscriptionRegistry = new SubscriptionRegistry();
  readonly ids: PacketIdAllocator = new PacketIdAllocator();
  /** The open connection (also while closing), or `undefined`. */
  conn: Connection | undefined;
  /** `true` while new messages may go straight to the connection (state `"connected"`). */
  accepting = false;
  /** Current in-flight window: `maxInflight`, lowered by the server's Receive Maximum. */
  window: number;
  /** Largest packet the server accepts now. */
  maxPacketSize = Infinity;
  /** Highest QoS the server accepts now (its MQTT 5 Maximum QoS). */
  maxQos: 0 | 1 = 1;
  /** Whether the server accepts retained messages now (its MQTT 5 Retain Available). */
  retainAvailable = true;
  /** In-flight messages of an earlier connection, resent as the window allows (from `#resendAt`). */
  #resend: PublishPacket[] = [];
  #resendAt = 0;
  #sizeOf: (packet: PublishPacket) => number;
  #flushWaiters: (() => void)[] = [];
  #clock: Clock;
  #refillTimer: TimerHandle | undefined;
  #nudge: AckNudge;
  #onError: (error: Error) => void;
  #idInUse = (id: number): boolean => this.inflight.has(id) || this.subs.hasPending(id);

  /**
   * @param maxInflight In-flight capacity.
   * @param queue Queue options.
   * @param onError Told about failures nobody awaits.
   * @param sizeOf Exact encoded size of a PUBLISH.
   * @param clock Timers (for batched window refills).
   */
  constructor(
    maxInflight: number,
    queue: QueueOptions | undefined,
    onError: (error: Error) => void,
    sizeOf: (packet: PublishPacket) => number,
    clock: Clock,
  ) {
    this.#sizeOf = sizeOf;
    this.#clock = clock;
    this.#nudge = new AckNudge(clock, this);
    this.inflight = new InflightTable(maxInflight);
    this.window = maxInflight;
    this.queue = new MessageQueue(queue, onError);
    this.#onError = onError;
  }

  /** Queued plus in-flight messages. */
  get pendingCount(): number {
    return this.queue.size + this.inflight.size;
  }

  /**
   * Sends a message now if there is room, else queues it.
   * @throws {QueueFullError} If it must be queued and the queue refuses it.
   */
  submit(packet: PublishPacket, resolve?: Resolve, reject?: Reject): void {
    const conn = this.conn;
    if (
      conn !== undefined && this.accepting && this.queue.size === 0 &&
      conn.bufferedBytes < HIGH_WATER_MARK && (packet.qos === 0 || this.#roomFor1())
    ) {
      this.#send(conn, packet, resolve, reject);
      return;
    }
    this.queue.push(packet, resolve, reject);
    if (this.#refillTimer === undefined && conn !== undefined && this.accepting) this.pump();
  }

  /** A QoS 1 message may go now: the window has room, and is not nearly full (see `pump`). */
  #roomFor1(): boolean {
    const free = this.window - this.inflight.size;
    return free > 0 && (free >= this.#minRefill() || this.inflight.size === 0);
  }

  /**
   * Fewest free window slots worth a write under load: 1/32 of the window (3 of 100), at least 1.
   * A larger batch saves little more, and declining a refill costs a timer tick (about 2 ms in
   * Deno), which a server acknowledging with Nagle's algorithm turns into an idle pause: Mosquitto
   * holds the next PUBACKs until this side writes, and drains a 100-message window in about 1.6 ms.
   */
  #minRefill(): number {
    return Math.max(1, this.window >> 5);
  }

  /**
   * Refuses a message that outgrew the current limit (a reconnect can bring
   * a smaller server Maximum Packet Size); sending it would only get the
   * connection closed, again after every reconnect.
   */
  #checkSize(packet: PublishPacket): void {
    // Queued while another server (or none) set the limits [MQTT-3.2.2-11] [MQTT-3.2.2-14].
    if (packet.qos > this.maxQos) {
      throw new RangeError(
        `Cannot publish with QoS ${packet.qos}: the server accepts QoS ${this.maxQos} at most`,
      );
    }
    if (packet.retain && !this.retainAvailable) {
      throw new RangeError(
        "Cannot publish with retain: the server does not support retained messages",
      );
    }
    if (packet.properties === undefined && publishSizeBound(packet) <= this.maxPacketSize) return;
    const size = this.#sizeOf(packet);
    if (size > this.maxPacketSize) throw new PayloadTooLargeError(size, this.maxPacketSize);
  }

  #send(conn: Connection, packet: PublishPacket, resolve?: Resolve, reject?: Reject): void {
    this.#checkSize(packet);
    if (packet.qos === 0) return conn.send(packet, resolve, reject);
    const id = this.ids.next(this.#idInUse);
    packet.packetId = id;
    this.inflight.add(packet, resolve, reject);
    try {
      conn.send(packet);
    } catch (e) {
      this.inflight.release(this.inflight.remove(id));
      packet.packetId = 0;
      throw e;
    }
  }

  /**
   * Publishes a checked packet; the promise settles on PUBACK (QoS 1) or
   * once written (QoS 0). Aborting `signal` removes a queued message, or
   * stops waiting for an in-flight one.
   */
  publish(packet: PublishPacket, signal: AbortSignal | undefined): Promise<PublishResult> {
    return new Promise<PublishResult>((resolve, reject) => {
      if (!signal) return this.submit(packet, resolve, reject);
      if (signal.aborted) throw abortError("Cannot publish: aborted", signal);
      const onAbort = () => {
        if (packet.packetId) this.inflight.detach(packet.packetId);
        else this.queue.remove(packet);
        reject(abortError("Cannot publish: aborted", signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const off = () => signal.removeEventListener("abort", onAbort);
      this.submit(packet, (r) => (off(), resolve(r)), (e) => (off(), reject(e)));
    });
  }

  /** Subscribes (remembering the subscriptions); settles with the SUBACK codes. */
  subscribe(subs: Subscription[], signal: AbortSignal | undefined): Promise<number[]> {
    return new Promise<number[]>((resolve, reject) => {
      if (signal?.aborted) throw abortError("Cannot subscribe: aborted", signal);
      this.subs.remember(subs);
      const request: SubscriptionRequest = {
        kind: "subscribe",
        subscriptions: subs,
        topicFilters: [],
        resolve: (codes) => (signal?.removeEventListener("abort", onAbort), resolve(codes)),
        reject: (e) => (signal?.removeEventListener("abort", onAbort), reject(e)),
      };
      const onAbort = () => {
        this.subs.cancel(request);
        this.subs.forget(subs.map((s) => s.topicFilter));
        reject(abortError("Cannot subscribe: aborted", signal));
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      this.request(request);
    });
  }

  /** Forgets topic filters and unsubscribes; offline it resolves at once. */
  unsubscribe(filters: string[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.subs.forget(filters);
      if (!this.accepting || !this.conn) return resolve();
      this.request({
        kind: "unsubscribe",
        subscriptions: [],
        topicFilters: filters,
        resolve: () => resolve(),
        reject,
      });
    });
  }

  /** Moves queued messages to the connection while there is room; wakes `whenFlushed()` waiters. */
  pump(force = false): void {
    const conn = this.conn;
    if (conn !== undefined && this.#resendAt < this.#resend.length) this.#resendDue(conn);
    // Under load, refill the in-flight window a few slots at a time rather than one per PUBACK, so
    // that a server acknowledging one message per segment does not get one small write per
    // message. A refill that is declined waits for one timer tick, never for more acknowledgements:
    // a server using Nagle's algorithm sends no more of them until this side writes.
    if (!force && conn !== undefined && this.inflight.size > 0 && this.queue.size > 0) {
      const free = this.window - this.inflight.size;
      if (free < this.#minRefill() && this.queue.peek()!.qos === 1) {
        this.#refillTimer ??= this.#clock.setTimeout(() => {
          this.#refillTimer = undefined;
          this.pump(true);
        }, 0);
        return;
      }
    }
    while (
      conn !== undefined && this.queue.size > 0 && !conn.closed &&
      conn.bufferedBytes < HIGH_WATER_MARK
    ) {
      const packet = this.queue.peek()!;
      if (packet.qos === 1 && this.inflight.size >= this.window) break;
      const resolve = this.queue.peekResolve();
      const reject = this.queue.peekReject();
      this.queue.shift();
      try {
        this.#send(conn, packet, resolve, reject);
      } catch (e) {
        this.#fail(e, reject);
      }
    }
    if (this.#flushWaiters.length > 0 && this.isFlushed()) this.wake();
  }

  /** Called after each chunk of packets from the server (see {@linkcode AckNudge}). */
  received(): void {
    this.#nudge.received();
  }

  /** Sends no more PINGREQs on this connection (a DISCONNECT follows). */
  stopNudging(): void {
    this.#nudge.stop();
  }

  /** Rejects a message's promise, or reports the failure when nobody awaits it. */
  #fail(e: unknown, reject: Reject | undefined): void {
    const error = asError(e);
    if (reject) reject(error);
    else this.#onError(error);
  }

  /** `true` when nothing is queued, in flight or unwritten. */
  isFlushed(): boolean {
    return this.queue.size === 0 && this.inflight.size === 0 && (this.conn?.idle ?? true);
  }

  /**
   * Resolves when {@linkcode isFlushed} (or {@linkcode wake} is called).
   * @throws {DOMException} `TimeoutError` after `timeout` ms.
   */
  whenFlushed(clock: Clock, timeout: number): Promise<void> {
    if (this.isFlushed()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = clock.setTimeout(() => {
        const i = this.#flushWaiters.indexOf(done);
        if (i >= 0) this.#flushWaiters.splice(i, 1);
        reject(
          timeoutError(
            `Cannot flush: ${this.pendingCount} messages still pending after ${timeout} ms`,
          ),
        );
      }, timeout);
      const done = () => {
        clock.clearTimeout(timer);
        resolve();
      };
      this.#flushWaiters.push(done);
    });
  }

  /** Releases every `whenFlushed()` waiter. */
  wake(): void {
    const waiters = this.#flushWaiters;
    this.#flushWaiters = [];
    for (const w of waiters) w();
  }

  /** Sends a SUBSCRIBE/UNSUBSCRIBE now, or keeps it for the next connection. */
  request(request: SubscriptionRequest): void {
    const conn = this.conn;
    if (!conn || !this.accepting) return this.subs.defer(request);
    const id = this.ids.next(this.#idInUse);
    if (id === 0) {
      return request.reject(
        new RangeError("Cannot subscribe: all 65535 packet identifiers are in use"),
      );
    }
    this.subs.sent(id, request);
    try {
      conn.send(
        request.kind === "subscribe"
          ? { type: "subscribe", packetId: id, subscriptions: request.subscriptions }
          : { type: "unsubscribe", packetId: id, topicFilters: request.topicFilters },
      );
    } catch (e) {
      this.subs.take(id);
      request.reject(asError(e));
    }
  }

  /**
   * Starts a new session on `conn`: subscribes again (the server keeps no
   * session), resends unacknowledged QoS 1 messages with DUP, then the queue.
   */
  resume(conn: Connection, window: number): void {
    this.conn = conn;
    this.accepting = true;
    this.#nudge.start();
    this.window = window;
    const requests = this.subs.takeForReconnect();
    const covered = new Set<string>();
    for (const r of requests) for (const s of r.subscriptions) covered.add(s.topicFilter);
    const rest = this.subs.active().filter((s) => !covered.has(s.topicFilter));
    if (rest.length > 0) {
      this.request({
        kind: "subscribe",
        subscriptions: rest,
        topicFilters: [],
        internal: true,
        resolve: () => {},
        reject: (e) => this.#onError(e),
      });
    }
    for (const r of requests) {
      if (r.kind === "unsubscribe") r.resolve([]); // the new session has no subscriptions to remove
      else this.request(r);
    }
    this.#resend = this.inflight.ordered();
    this.#resendAt = 0;
    this.pump();
  }

  /**
   * Resends in-flight messages of an earlier connection, with DUP, while fewer
   * than the window are in flight on this one: a lower Receive Maximum may
   * have come with the reconnect [MQTT-3.3.4-7].
   */
  #resendDue(conn: Connection): void {
    while (
      this.#resendAt < this.#resend.length && !conn.closed &&
      this.inflight.size - (this.#resend.length - this.#resendAt) < this.window
    ) {
      const packet = this.#resend[this.#resendAt++]!;
      packet.dup = true; // [MQTT-3.3.1-1]
      try {
        this.#checkSize(packet);
        conn.send(packet);
      } catch (e) {
        const slot = this.inflight.remove(packet.packetId ?? 0);
        const reject = this.inflight.rejectAt(slot);
        this.inflight.release(slot);
        this.#fail(e, reject);
      }
    }
  }

  /** Forgets the connection (it ended) and cancels a pending refill or nudge. */
  detach(): void {
    this.conn = undefined;
    this.#resend = [];
    this.#resendAt = 0;
    if (this.#refillTimer !== undefined) this.#clock.clearTimeout(this.#refillTimer);
    this.#refillTimer = undefined;
    this.#nudge.cancel();
  }

  /** Fails every queued and in-flight message; keeps subscriptions for a later connect(). */
  failAll(error: Error): void {
    this.detach();
    this.queue.rejectAll(error);
    this.inflight.rejectAll(error);
    for (const r of this.subs.takeForReconnect()) {
      if (r.kind === "subscribe") this.subs.defer(r); // made again on the next connect()
      else r.resolve([]);
    }
    this.wake();
  }
}
