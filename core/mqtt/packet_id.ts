/**
 * Deterministic packet identifier allocation.
 *
 * @module
 */

/** Largest packet identifier [MQTT-2.2.1-3]. */
export const MAX_PACKET_ID = 65_535;

/**
 * Hands out packet identifiers 1, 2, …, 65535, 1, … — never 0
 * [MQTT-2.2.1-3] — skipping identifiers still in use. Deterministic, so
 * tests (and brokers' test suites) can expect exact ids.
 *
 * @example
 * ```ts
 * import { PacketIdAllocator } from "./packet_id.ts";
 * const ids = new PacketIdAllocator();
 * const inUse = new Set<number>([2]);
 * ids.next((id) => inUse.has(id)); // 1
 * ids.next((id) => inUse.has(id)); // 3
 * ```
 */
export class PacketIdAllocator {
  #last = 0;

  /**
   * Returns the next free identifier.
   *
   * @param inUse Returns `true` for identifiers that must be skipped.
   * @returns An identifier in 1..65535, or 0 when all 65,535 are in use.
   */
  next(inUse: (id: number) => boolean): number {
    let id = this.#last;
    for (let i = 0; i < MAX_PACKET_ID; i++) {
      id = id === MAX_PACKET_ID ? 1 : id + 1;
      if (!inUse(id)) {
        this.#last = id;
        return id;
      }
    }
    return 0;
  }
}
