/**
 * The in-flight table: QoS 1 PUBLISH packets sent and not yet acknowledged,
 * keyed by packet identifier, in fixed-size storage.
 *
 * @module
 */

import type { PublishPacket } from "../codec/types.ts";
import { MAX_PACKET_ID } from "./packet_id.ts";

/**
 * What a QoS 1 publish resolves to.
 *
 * @example
 * ```ts
 * import type { PublishResult } from "./inflight.ts";
 * const r: PublishResult = { packetId: 1, reasonCode: 0 };
 * ```
 */
export interface PublishResult {
  /** Packet identifier the message was sent with (0 for QoS 0). */
  packetId: number;
  /** PUBACK reason code (0 on MQTT 3.1.1 and for QoS 0; 0x10 "no matching subscribers" is a success). */
  reasonCode: number;
}

/** Settles one publish. */
export type Resolve = (result: PublishResult) => void;
/** Fails one publish. */
export type Reject = (error: Error) => void;

/**
 * Fixed-capacity store of in-flight QoS 1 messages. Slots are preallocated;
 * adding and acknowledging a message allocates nothing. Identifiers map to
 * slots through a 64 Ki table, so lookups are O(1).
 *
 * @example
 * ```ts
 * import { InflightTable } from "./inflight.ts";
 * const t = new InflightTable(100);
 * t.add({ type: "publish", topic: "t", payload: new Uint8Array(), qos: 1, retain: false, dup: false, packetId: 1 });
 * const slot = t.remove(1);
 * t.packetAt(slot)?.topic; // "t"
 * t.release(slot);
 * ```
 */
export class InflightTable {
  readonly #capacity: number;
  readonly #slotOfId = new Uint16Array(MAX_PACKET_ID + 1); // slot + 1; 0 = free
  readonly #packets: (PublishPacket | undefined)[];
  readonly #resolves: (Resolve | undefined)[];
  readonly #rejects: (Reject | undefined)[];
  readonly #seq: Float64Array;
  readonly #free: Uint16Array;
  #freeTop: number;
  #counter = 0;

  /**
   * Creates an empty table.
   *
   * @param capacity Number of slots, 1..65535.
   * @throws {RangeError} If `capacity` is out of range.
   */
  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > MAX_PACKET_ID) {
      throw new RangeError(
        `Cannot create in-flight table: capacity ${capacity} is not in 1..65535`,
      );
    }
    this.#capacity = capacity;
    this.#packets = new Array<PublishPacket | undefined>(capacity).fill(undefined);
    this.#resolves = new Array<Resolve | undefined>(capacity).fill(undefined);
    this.#rejects = new Array<Reject | undefined>(capacity).fill(undefined);
    this.#seq = new Float64Array(capacity);
    this.#free = new Uint16Array(capacity);
    for (let i = 0; i < capacity; i++) this.#free[i] = capacity - 1 - i;
    this.#freeTop = capacity;
  }

  /** Number of slots. */
  get capacity(): number {
    return this.#capacity;
  }

  /** Number of messages in flight. */
  get size(): number {
    return this.#capacity - this.#freeTop;
  }

  /**
   * Tells whether a packet identifier is in flight.
   *
   * @param id Packet identifier.
   * @returns `true` if it is.
   */
  has(id: number): boolean {
    return this.#slotOfId[id] !== 0;
  }

  /**
   * Stores a message under its `packetId`.
   *
   * @param packet QoS 1 PUBLISH with a `packetId` not in flight.
   * @param resolve Called with the PUBACK result, if the caller awaits one.
   * @param reject Called on failure, if the caller awaits one.
   * @throws {RangeError} If the table is full or the identifier is in flight.
   */
  add(packet: PublishPacket, resolve?: Resolve, reject?: Reject): void {
    const id = packet.packetId ?? 0;
    if (this.#freeTop === 0) {
      throw new RangeError("Cannot track message: the in-flight table is full");
    }
    if (id < 1 || id > MAX_PACKET_ID || this.#slotOfId[id] !== 0) {
      throw new RangeError(`Cannot track message: packet identifier ${id} is invalid or in use`);
    }
    const slot = this.#free[--this.#freeTop]!;
    this.#slotOfId[id] = slot + 1;
    this.#packets[slot] = packet;
    this.#resolves[slot] = resolve;
    this.#rejects[slot] = reject;
    this.#seq[slot] = ++this.#counter;
  }

  /**
   * Detaches an identifier from its slot. Read the entry with
   * {@linkcode packetAt}, {@linkcode resolveAt}, {@linkcode rejectAt}, then
   * call {@linkcode release}.
   *
   * @param id Packet identifier.
   * @returns The slot, or -1 when the identifier is not in flight.
   */
  remove(id: number): number {
    const s = this.#slotOfId[id];
    if (!s) return -1;
    this.#slotOfId[id] = 0;
    return s - 1;
  }

  /**
   * The packet in a slot returned by {@linkcode remove}.
   * @param slot Slot.
   * @returns The packet.
   */
  packetAt(slot: number): PublishPacket | undefined {
    return this.#packets[slot];
  }

  /**
   * The resolver in a slot.
   * @param slot Slot.
   * @returns The resolver, if the caller awaits the message.
   */
  resolveAt(slot: number): Resolve | undefined {
    return this.#resolves[slot];
  }

  /**
   * The rejecter in a slot.
   * @param slot Slot.
   * @returns The rejecter, if the caller awaits the message.
   */
  rejectAt(slot: number): Reject | undefined {
    return this.#rejects[slot];
  }

  /**
   * Frees a slot returned by {@linkcode remove}.
   * @param slot Slot.
   */
  release(slot: number): void {
    this.#packets[slot] = undefined;
    this.#resolves[slot] = undefined;
    this.#rejects[slot] = undefined;
    this.#free[this.#freeTop++] = slot;
  }

  /**
   * Forgets the caller's callbacks of an in-flight message (its `signal`
   * aborted); the message itself stays in flight.
   *
   * @param id Packet identifier.
   */
  detach(id: number): void {
    const s = this.#slotOfId[id];
    if (!s) return;
    this.#resolves[s - 1] = undefined;
    this.#rejects[s - 1] = undefined;
  }

  /**
   * The in-flight messages in the order they were added (for resending
   * after a reconnect).
   *
   * @returns The packets, oldest first.
   */
  ordered(): PublishPacket[] {
    const slots: number[] = [];
    for (let s = 0; s < this.#capacity; s++) if (this.#packets[s] !== undefined) slots.push(s);
    slots.sort((a, b) => this.#seq[a]! - this.#seq[b]!);
    return slots.map((s) => this.#packets[s]!);
  }

  /**
   * Removes every message and rejects the awaited ones.
   *
   * @param error Rejection reason.
   */
  rejectAll(error: Error): void {
    for (const packet of this.ordered()) {
      const slot = this.remove(packet.packetId ?? 0);
      if (slot < 0) continue;
      const reject = this.#rejects[slot];
      this.release(slot);
      reject?.(error);
    }
  }
}
