/**
 * Prompt acknowledgement of a server's TCP segments while messages are in
 * flight and nothing else is to be sent. Private to the client.
 *
 * A server using Nagle's algorithm (Mosquitto by default) sends one small
 * packet (a PUBACK, a PINGRESP) at once and holds the next ones until that
 * segment is acknowledged; with nothing to send, our TCP stack acknowledges
 * it only after its delayed-ACK timeout (about 40 ms on Linux), which then
 * delays every `flush()`, `disconnect()` and awaited publish of a burst. A
 * PINGREQ carries the acknowledgement at once and is always allowed. A
 * chunk of PINGRESPs only calls for no nudge, so that a slow PUBACK costs
 * one PINGREQ, not a ping-pong until it arrives.
 *
 * @module
 */

import type { Packet } from "../codec/types.ts";
import { type Clock, defer, type TimerHandle } from "./clock.ts";
import type { Connection } from "./_connection.ts";

/** What the nudge looks at: the current connection, queue and in-flight window. */
export interface NudgeState {
  readonly conn: Connection | undefined;
  readonly queue: { readonly size: number };
  readonly inflight: { readonly size: number };
}

/** Sends a PINGREQ one short wait ({@linkcode defer}) after a received chunk when nothing else was written. */
export class AckNudge {
  #clock: Clock;
  #state: NudgeState;
  #timer: TimerHandle | undefined;
  #enabled = true;

  /**
   * @param clock Timers.
   * @param state The outbox whose connection and counts decide.
   */
  constructor(clock: Clock, state: NudgeState) {
    this.#clock = clock;
    this.#state = state;
  }

  /**
   * Called after each chunk of packets from the server: when nothing is left to send while
   * messages are still in flight, makes sure something is sent within one short wait. Costs one
   * comparison while a nudge is pending, a few more when none is needed (the packets are looked
   * at only when a nudge would be armed, never while the queue feeds the window).
   *
   * @param packets The chunk's packets.
   */
  received(packets: readonly Packet[]): void {
    if (this.#timer === undefined) this.#arm(packets);
  }

  /** Allows nudges again (a new connection). */
  start(): void {
    this.#enabled = true;
  }

  /** Sends no more PINGREQs on this connection (a DISCONNECT follows). */
  stop(): void {
    this.#enabled = false;
    this.cancel();
  }

  /** Cancels a pending nudge. */
  cancel(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  /** @param packets The chunk that calls for a nudge; none when looking again after a write. */
  #arm(packets?: readonly Packet[]): void {
    const s = this.#state;
    const conn = s.conn;
    if (!this.#enabled || conn === undefined || s.queue.size > 0 || s.inflight.size === 0) return;
    // Answering the PINGRESP of our own nudge with another would ping back and forth.
    if (packets?.every((p) => p.type === "pingresp")) return;
    const writes = conn.writes;
    this.#timer = defer(this.#clock, () => {
      this.#timer = undefined;
      if (!this.#enabled || conn !== s.conn || conn.closed || s.inflight.size === 0) return;
      // Something was written meanwhile (it carried the acknowledgement): look again after another wait.
      if (conn.writes !== writes) return this.#arm();
      conn.send({ type: "pingreq" });
    });
  }
}
