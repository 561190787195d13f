/**
 * The bounded message queue: messages accepted by `publish()` that cannot be
 * sent yet (offline, in-flight window full, socket backed up).
 *
 * @module
 */

import type { PublishPacket } from "../codec/types.ts";
import { MessageDroppedError, QueueFullError } from "./errors.ts";
import type { Reject, Resolve } from "./inflight.ts";

/**
 * Size and overflow policy of the queue.
 *
 * @example
 * ```ts
 * import type { QueueOptions } from "./queue.ts";
 * const q: QueueOptions = { maxSize: 10_000, policy: "drop-oldest" };
 * ```
 */
export interface QueueOptions {
  /**
   * Most messages held (0 disables queueing: publishing while offline fails).
   * @default {1000}
   */
  maxSize?: number;
  /**
   * What happens when a message arrives at a full queue: `"reject"` fails
   * the new message with {@linkcode QueueFullError}; `"drop-oldest"` drops
   * the oldest queued message, failing it with
   * {@linkcode MessageDroppedError}.
   * @default {"reject"}
   */
  policy?: "reject" | "drop-oldest";
}

/**
 * A FIFO ring buffer of messages with their (optional) callbacks. Messages
 * are never dropped silently: a dropped message's promise is rejected, or
 * `onDrop` is told when nobody awaits it.
 *
 * @example
 * ```ts
 * import { MessageQueue } from "./queue.ts";
 * const q = new MessageQueue({ maxSize: 2 });
 * q.push({ type: "publish", topic: "t", payload: new Uint8Array(), qos: 0, retain: false, dup: false });
 * q.size; // 1
 * ```
 */
export class MessageQueue {
  readonly maxSize: number;
  readonly policy: "reject" | "drop-oldest";
  #packets: (PublishPacket | undefined)[];
  #resolves: (Resolve | undefined)[];
  #rejects: (Reject | undefined)[];
  #head = 0;
  #size = 0;
  #onDrop: (error: MessageDroppedError) => void;

  /**
   * Creates an empty queue.
   *
   * @param options Size and policy.
   * @param onDrop Told about dropped messages that no caller awaits.
   * @throws {RangeError} If `maxSize` is not a non-negative integer.
   */
  constructor(options: QueueOptions = {}, onDrop: (error: MessageDroppedError) => void = () => {}) {
    this.maxSize = options.maxSize ?? 1000;
    this.policy = options.policy ?? "reject";
    if (!Number.isInteger(this.maxSize) || this.maxSize < 0) {
      throw new RangeError(
        `Cannot configure queue: maxSize ${this.maxSize} is not a non-negative integer`,
      );
    }
    if (this.policy !== "reject" && this.policy !== "drop-oldest") {
      throw new TypeError(`Cannot configure queue: unknown policy "${String(this.policy)}"`);
    }
    this.#packets = new Array<PublishPacket | undefined>(this.maxSize).fill(undefined);
    this.#resolves = new Array<Resolve | undefined>(this.maxSize).fill(undefined);
    this.#rejects = new Array<Reject | undefined>(this.maxSize).fill(undefined);
    this.#onDrop = onDrop;
  }

  /** Number of queued messages. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends a message.
   *
   * @param packet The message.
   * @param resolve Settles the caller's promise, if any.
   * @param reject Fails the caller's promise, if any.
   * @throws {QueueFullError} If the queue is full and the policy is `"reject"` (or `maxSize` is 0).
   */
  push(packet: PublishPacket, resolve?: Resolve, reject?: Reject): void {
    if (this.#size === this.maxSize) {
      if (this.policy === "reject" || this.maxSize === 0) throw new QueueFullError(this.maxSize);
      const old = this.#packets[this.#head]!;
      const oldReject = this.#rejects[this.#head];
      this.#drop();
      const error = new MessageDroppedError(old.topic, this.maxSize);
      if (oldReject) oldReject(error);
      else this.#onDrop(error);
    }
    const i = (this.#head + this.#size) % this.maxSize;
    this.#packets[i] = packet;
    this.#resolves[i] = resolve;
    this.#rejects[i] = reject;
    this.#size++;
  }

  /** The oldest message, without removing it. */
  peek(): PublishPacket | undefined {
    return this.#size === 0 ? undefined : this.#packets[this.#head];
  }

  /** Resolver of the oldest message. */
  peekResolve(): Resolve | undefined {
    return this.#resolves[this.#head];
  }

  /** Rejecter of the oldest message. */
  peekReject(): Reject | undefined {
    return this.#rejects[this.#head];
  }

  /** Removes the oldest message (read it first with the `peek` methods). */
  shift(): void {
    if (this.#size > 0) this.#drop();
  }

  #drop(): void {
    const h = this.#head;
    this.#packets[h] = undefined;
    this.#resolves[h] = undefined;
    this.#rejects[h] = undefined;
    this.#head = (h + 1) % this.maxSize;
    this.#size--;
  }

  /**
   * Removes one message wherever it is (its caller aborted). O(n).
   *
   * @param packet The message, by identity.
   * @returns `true` if it was queued.
   */
  remove(packet: PublishPacket): boolean {
    const n = this.#size;
    let found = false;
    const keep: [PublishPacket, Resolve | undefined, Reject | undefined][] = [];
    for (let k = 0; k < n; k++) {
      const i = (this.#head + k) % this.maxSize;
      if (!found && this.#packets[i] === packet) found = true;
      else keep.push([this.#packets[i]!, this.#resolves[i], this.#rejects[i]]);
    }
    if (!found) return false;
    while (this.#size > 0) this.#drop();
    this.#head = 0;
    for (const [p, res, rej] of keep) this.push(p, res, rej);
    return true;
  }

  /**
   * Empties the queue, rejecting every awaited message.
   *
   * @param error Rejection reason.
   */
  rejectAll(error: Error): void {
    while (this.#size > 0) {
      const reject = this.#rejects[this.#head];
      this.#drop();
      reject?.(error);
    }
  }
}
