/**
 * Recognizes our own messages coming back. ThingsBoard never echoes, but a
 * plain MQTT broker in front of (or instead of) it does: the device
 * publishes client attributes on the topic it subscribes to for shared
 * attribute pushes, and client-side RPC on the prefix of server-side RPC.
 * MQTT 5 subscriptions use No Local; on 3.1.1 this filter drops an inbound
 * message that repeats, byte for byte and on the same topic, one we
 * published in the last seconds.
 *
 * @module
 */

interface Sent {
  topic: string;
  payload: Uint8Array;
  at: number;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Recently published messages on topics we also subscribe to. */
export class EchoFilter {
  #sent: Sent[] = [];
  #now: () => number;
  #windowMs: number;
  #max: number;

  /**
   * Creates an empty filter.
   *
   * @param now Monotonic milliseconds.
   * @param windowMs How long a published message may come back.
   * @param max Most messages remembered.
   */
  constructor(now: () => number, windowMs = 10_000, max = 64) {
    this.#now = now;
    this.#windowMs = windowMs;
    this.#max = max;
  }

  /**
   * Remembers a published message.
   *
   * @param topic Its topic.
   * @param payload Its payload (not mutated afterwards).
   */
  record(topic: string, payload: Uint8Array): void {
    this.#prune();
    if (this.#sent.length >= this.#max) this.#sent.shift();
    this.#sent.push({ topic, payload, at: this.#now() });
  }

  /**
   * Whether an inbound message is the echo of one we published; a match is
   * consumed.
   *
   * @param topic Inbound topic.
   * @param payload Inbound payload.
   * @returns `true` for an echo.
   */
  isEcho(topic: string, payload: Uint8Array): boolean {
    this.#prune();
    const i = this.#sent.findIndex((s) => s.topic === topic && sameBytes(s.payload, payload));
    if (i === -1) return false;
    this.#sent.splice(i, 1);
    return true;
  }

  #prune(): void {
    const oldest = this.#now() - this.#windowMs;
    while (this.#sent.length > 0 && this.#sent[0]!.at < oldest) this.#sent.shift();
  }
}
