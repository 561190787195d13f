/**
 * The unacknowledged QoS 1 messages of an earlier connection, resent with
 * DUP on the next one as its in-flight window allows. Private to the client.
 *
 * @module
 */

import type { PublishPacket } from "../codec/types.ts";
import type { Connection } from "./_connection.ts";
import type { InflightTable, Reject } from "./inflight.ts";

/** What a resend needs of its outbox. */
export interface ResendTarget {
  /** In-flight messages (the resent ones stay in it, under their identifiers). */
  readonly inflight: InflightTable;
  /** Current in-flight window. */
  readonly window: number;
  /** Throws if a message may not be sent under the current server's limits. */
  checkSendable(packet: PublishPacket): void;
  /** Rejects a message's promise, or reports the failure when nobody awaits it. */
  fail(e: unknown, reject: Reject | undefined): void;
  /** In-flight messages whose publisher stopped waiting (aborted): not resent. */
  readonly withdrawn: WeakSet<PublishPacket>;
}

/** In-flight messages of an earlier connection still to be resent on this one. */
export class ResendList {
  #packets: PublishPacket[] = [];
  #at = 0;

  /** `true` while some message is still to be resent. */
  get pending(): boolean {
    return this.#at < this.#packets.length;
  }

  /**
   * Starts resending `packets` (in their original order).
   * @param packets The in-flight messages of the earlier connection.
   */
  start(packets: PublishPacket[]): void {
    this.#packets = packets;
    this.#at = 0;
  }

  /** Resends nothing more (the connection ended). */
  clear(): void {
    this.#packets = [];
    this.#at = 0;
  }

  /**
   * Resends messages, with DUP, while fewer than the window are in flight on
   * this connection: a lower Receive Maximum may have come with the
   * reconnect [MQTT-3.3.4-7]. A message the new server's limits refuse is
   * failed instead, and leaves the in-flight table, as does one whose
   * publish was aborted.
   *
   * @param out The outbox.
   * @param conn The current connection.
   */
  sendDue(out: ResendTarget, conn: Connection): void {
    const inflight = out.inflight;
    while (
      this.#at < this.#packets.length && !conn.closed &&
      inflight.size - (this.#packets.length - this.#at) < out.window
    ) {
      const packet = this.#packets[this.#at++]!;
      if (out.withdrawn.has(packet)) {
        // Its publisher was told it failed; the new session owes the server nothing of it.
        inflight.release(inflight.remove(packet.packetId ?? 0));
        continue;
      }
      packet.dup = true; // [MQTT-3.3.1-1]
      try {
        out.checkSendable(packet);
        conn.send(packet);
      } catch (e) {
        const slot = inflight.remove(packet.packetId ?? 0);
        const reject = inflight.rejectAt(slot);
        inflight.release(slot);
        out.fail(e, reject);
      }
    }
  }
}
