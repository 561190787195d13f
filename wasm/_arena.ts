/**
 * The outbound arena: a ring of wasm memory that packets are built in and
 * written to the socket from, without a per-packet `ArrayBuffer`. A packet's
 * bytes stay valid until its lease is released (after the write resolved);
 * leases are reclaimed in order.
 *
 * @module
 */

/**
 * Bytes built in wasm memory, valid until {@linkcode OutboundBytes.release}.
 *
 * @example Writing a packet and releasing it after the write resolved
 * ```ts ignore
 * const out = encodeTelemetryPublishOutbound("v1/devices/me/telemetry", { t: 21.5 });
 * try {
 *   await conn.write(out.bytes);
 * } finally {
 *   out.release();
 * }
 * ```
 */
export interface OutboundBytes {
  /** The packet: a view of wasm memory (or an owned copy when the arena was full). */
  readonly bytes: Uint8Array;
  /** Gives the memory back; `bytes` must not be used afterwards. Idempotent. */
  release(): void;
}

/** A leased region of the ring (a class: no closure per packet). */
class Lease implements OutboundBytes {
  readonly bytes: Uint8Array;
  readonly start: number;
  released = false;
  #arena: OutboundArena;

  constructor(arena: OutboundArena, bytes: Uint8Array, start: number) {
    this.#arena = arena;
    this.bytes = bytes;
    this.start = start;
  }

  release(): void {
    if (!this.released) {
      this.released = true;
      this.#arena.reclaim();
    }
  }
}

/** A ring allocator over `[start, end)` of one instance's memory. */
export class OutboundArena {
  #u8: Uint8Array;
  #start: number;
  #end: number;
  #head: number;
  #live: Lease[] = [];

  /**
   * @param u8 View of the whole memory.
   * @param start First byte of the ring.
   * @param end End of the ring.
   */
  constructor(u8: Uint8Array, start: number, end: number) {
    this.#u8 = u8;
    this.#start = this.#head = start;
    this.#end = end;
  }

  /** Leases not yet released. */
  get pending(): number {
    return this.#live.length;
  }

  /**
   * Finds `size` free contiguous bytes.
   *
   * @returns Their address, or -1 when the unreleased leases leave no room.
   */
  reserve(size: number): number {
    const live = this.#live;
    if (live.length === 0) {
      this.#head = this.#start;
      return size <= this.#end - this.#start ? this.#start : -1;
    }
    const tail = live[0]!.start;
    const head = this.#head;
    if (head > tail) {
      if (this.#end - head >= size) return head;
      return tail - this.#start > size ? this.#start : -1;
    }
    return tail - head > size ? head : -1;
  }

  /**
   * Leases `[start, end)`, which lies within a region just returned by
   * {@linkcode OutboundArena.reserve}.
   */
  take(start: number, end: number): OutboundBytes {
    const u8 = this.#u8;
    const bytes = new Uint8Array(u8.buffer, u8.byteOffset + start, end - start);
    const lease = new Lease(this, bytes, start);
    this.#head = end;
    this.#live.push(lease);
    return lease;
  }

  /** Drops the released leases at the tail of the ring (called by a lease's release). */
  reclaim(): void {
    const live = this.#live;
    if (live.length === 1 && live[0]!.released) {
      live.pop();
      return;
    }
    let n = 0;
    while (n < live.length && live[n]!.released) n++;
    if (n > 0) live.splice(0, n);
  }
}

/** Wraps owned bytes as an {@linkcode OutboundBytes} with nothing to release. */
export function ownedBytes(bytes: Uint8Array): OutboundBytes {
  return { bytes, release() {} };
}
