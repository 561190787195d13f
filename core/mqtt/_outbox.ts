/**
 * The outgoing side of a client: the bounded queue and the in-flight window,
 * refilled onto the current connection as room allows, within the current
 * server's limits. Subscription requests ({@linkcode SubscriptionRequests})
 * and the resend after a reconnect ({@linkcode ResendList}) have their own
 * modules. Private to the client.
 *
 * @module
 */

import type { Packet, PublishPacket } from "../codec/types.ts";
import { type Clock, defer, type TimerHandle } from "./clock.ts";
import { asError, type Connection } from "./_connection.ts";
import { PayloadTooLargeError } from "./errors.ts";
import { AckNudge } from "./_ack_nudge.ts";
import { abortError, timeoutError } from "./_dom_errors.ts";
import { InflightTable, type PublishResult, type Reject, type Resolve } from "./inflight.ts";
import { PacketIdAllocator } from "./packet_id.ts";
import { MessageQueue, type QueueOptions } from "./queue.ts";
import { SubscriptionRegistry } from "./subscriptions.ts";
import { publishSizeBound } from "./_validate.ts";
import { ResendList } from "./_resend.ts";
import { SubscriptionRequests } from "./_sub_requests.ts";

/** Buffered bytes above which new messages wait in the queue. */
const HIGH_WATER_MARK = 1 << 20;

/** Queue and in-flight window of one client, and its per-connection send limits. */
export class Outbox {
  readonly inflight: InflightTable;
  readonly queue: MessageQueue;
  readonly subs: SubscriptionRegistry = new SubscriptionRegistry();
  readonly ids: PacketIdAllocator = new PacketIdAllocator();
  /** In-flight messages whose publish was aborted: not resent after a reconnect. */
  readonly withdrawn: WeakSet<PublishPacket> = new WeakSet();
  /** SUBSCRIBE/UNSUBSCRIBE requests and resubscription. */
  readonly requests: SubscriptionRequests;
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
  /** In-flight messages of an earlier connection, resent as the window allows. */
  #resend = new ResendList();
  /** While `onSessionStart` runs: its messages go straight to the new connection. */
  #first = false;
  #lengthOf: (packet: Packet) => number;
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
   * @param lengthOf Exact encoded size of a packet on the current protocol level.
   * @param clock Timers (for batched window refills).
   */
  constructor(
    maxInflight: number,
    queue: QueueOptions | undefined,
    onError: (error: Error) => void,
    lengthOf: (packet: Packet) => number,
    clock: Clock,
  ) {
    this.#lengthOf = lengthOf;
    this.#clock = clock;
    this.#nudge = new AckNudge(clock, this);
    this.inflight = new InflightTable(maxInflight);
    this.window = maxInflight;
    this.queue = new MessageQueue(queue, onError);
    this.#onError = onError;
    this.requests = new SubscriptionRequests(this, this.subs, lengthOf, onError);
  }

  /** Queued plus in-flight messages. */
  get pendingCount(): number {
    return this.queue.size + this.inflight.size;
  }

  /** A free packet identifier (for a message or a request), or 0 when all are in use. */
  nextId(): number {
    return this.ids.next(this.#idInUse);
  }

  /**
   * Sends a message now if there is room, else queues it. The message was
   * just checked against the current limits ({@linkcode checkSendable}).
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
    // From `onSessionStart`: ahead of the queue and of the resends (started after it).
    if (this.#first && (packet.qos === 0 || this.inflight.size < this.window)) {
      this.#send(conn!, packet, resolve, reject);
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
   * A larger batch saves little more, and declining a refill costs the shortest wait the clock has
   * ({@linkcode defer}: about 1.1 ms in Deno), during which a server acknowledging with Nagle's
   * algorithm holds its next PUBACKs: Mosquitto drains a 100-message window in about 1.6 ms, so a
   * wait of 2 ms (`setTimeout(fn, 0)`) left it idle a quarter of the time.
   */
  #minRefill(): number {
    return Math.max(1, this.window >> 5);
  }

  /**
   * Refuses a message the current server's limits forbid, when published,
   * and again before a queued or resent message goes out (a reconnect can
   * bring smaller limits); sending it would only get the connection closed,
   * again after every reconnect. With properties, the exact size is computed
   * (which also validates them, naming the bad field).
   * @throws {RangeError | PayloadTooLargeError} If the server would refuse it.
   */
  checkSendable(packet: PublishPacket): void {
    // Limits of the current server, or of the last one while offline [MQTT-3.2.2-11] [MQTT-3.2.2-14].
    if (packet.qos > this.maxQos) {
      throw new RangeError(
        `Cannot publish with QoS ${packet.qos}: the server accepts QoS ${this.maxQos} at most; ` +
          `publish with qos ${this.maxQos}`,
      );
    }
    if (packet.retain && !this.retainAvailable) {
      throw new RangeError(
        "Cannot publish with retain: the server does not support retained messages; " +
          "publish without retain",
      );
    }
    if (packet.properties === undefined && publishSizeBound(packet) <= this.maxPacketSize) return;
    const size = this.#lengthOf(
      packet.qos && !packet.packetId ? { ...packet, packetId: 1 } : packet,
    );
    if (size > this.maxPacketSize) throw new PayloadTooLargeError(size, this.maxPacketSize);
  }

  /** Sends a packet that meets the current limits ({@linkcode checkSendable} said so). */
  #send(conn: Connection, packet: PublishPacket, resolve?: Resolve, reject?: Reject): void {
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
   * stops waiting for an in-flight one, which is then not resent after a
   * reconnect.
   */
  publish(packet: PublishPacket, signal: AbortSignal | undefined): Promise<PublishResult> {
    return new Promise<PublishResult>((resolve, reject) => {
      if (!signal) return this.submit(packet, resolve, reject);
      if (signal.aborted) throw abortError("Cannot publish: aborted", signal);
      const onAbort = () => {
        if (packet.packetId) {
          this.inflight.detach(packet.packetId);
          this.withdrawn.add(packet);
        } else this.queue.remove(packet);
        reject(abortError("Cannot publish: aborted", signal));
      };
      signal.addEventListener("abort", onAbort, { once: true });
      const off = () => signal.removeEventListener("abort", onAbort);
      this.submit(packet, (r) => (off(), resolve(r)), (e) => (off(), reject(e)));
    });
  }

  /** Moves queued messages to the connection while there is room; wakes `whenFlushed()` waiters. */
  pump(force = false): void {
    const conn = this.conn;
    if (conn !== undefined && this.#resend.pending) this.#resend.sendDue(this, conn);
    // Under load, refill the in-flight window a few slots at a time rather than one per PUBACK, so
    // that a server acknowledging one message per segment does not get one small write per
    // message. A refill that is declined waits for one short wait, never for more acknowledgements:
    // a server using Nagle's algorithm sends no more of them until this side writes.
    if (!force && conn !== undefined && this.inflight.size > 0 && this.queue.size > 0) {
      const free = this.window - this.inflight.size;
      if (free < this.#minRefill() && this.queue.peek()!.qos === 1) {
        // With no free slot at all, the next PUBACK calls again.
        if (free > 0) {
          this.#refillTimer ??= defer(this.#clock, () => {
            this.#refillTimer = undefined;
            this.pump(true);
          });
        }
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
        this.checkSendable(packet); // queued under limits that may have changed since
        this.#send(conn, packet, resolve, reject);
      } catch (e) {
        this.fail(e, reject);
      }
    }
    if (this.#flushWaiters.length > 0 && this.isFlushed()) this.wake();
  }

  /** Called after each chunk of packets from the server (see {@linkcode AckNudge}). */
  received(packets: readonly Packet[]): void {
    this.#nudge.received(packets);
  }

  /** Sends no more PINGREQs on this connection (a DISCONNECT follows). */
  stopNudging(): void {
    this.#nudge.stop();
  }

  /** Rejects a message's promise, or reports the failure when nobody awaits it. */
  fail(e: unknown, reject: Reject | undefined): void {
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

  /**
   * Starts a new session on `conn`: subscribes again (the server keeps no
   * session), sends what `first` publishes, resends unacknowledged QoS 1
   * messages with DUP, then the queue.
   *
   * @param conn The new connection.
   * @param window Its in-flight window.
   * @param first Publishes what must go ahead of the backlog (`onSessionStart`).
   */
  resume(conn: Connection, window: number, first?: () => void): void {
    this.conn = conn;
    this.accepting = true;
    this.#nudge.start();
    this.window = window;
    this.requests.resume();
    const unacknowledged = this.inflight.ordered();
    if (first) {
      this.#first = true;
      try {
        first();
      } finally {
        this.#first = false;
      }
    }
    this.#resend.start(unacknowledged);
    this.pump();
  }

  /** Forgets the connection (it ended) and cancels a pending refill or nudge. */
  detach(): void {
    this.conn = undefined;
    this.#resend.clear();
    if (this.#refillTimer !== undefined) this.#clock.clearTimeout(this.#refillTimer);
    this.#refillTimer = undefined;
    this.#nudge.cancel();
  }

  /** Fails every queued and in-flight message; keeps subscriptions for a later connect(). */
  failAll(error: Error): void {
    this.detach();
    this.queue.rejectAll(error);
    this.inflight.rejectAll(error);
    this.requests.suspend();
    this.wake();
  }
}
