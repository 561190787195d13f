/**
 * Recognizes our own messages coming back. ThingsBoard never echoes, but a
 * plain MQTT broker in front of (or instead of) it does: the device
 * publishes client attributes on the topic it subscribes to for shared
 * attribute pushes, and client-side RPC on the prefix of server-side RPC.
 * MQTT 5 subscriptions use No Local, so the filter only matters on 3.1.1:
 * it drops an inbound message that repeats, byte for byte and on the same
 * topic, one we published in the last seconds. A message's window starts
 * when the server acknowledged it (its PUBACK; for QoS 0, when it was
 * written: {@linkcode EchoFilter.started}), so that a server that stalls
 * before handling it still has a whole window to send it back; after a
 * reconnect, windows start again ({@linkcode EchoFilter.connected}).
 *
 * ThingsBoard itself never echoes, and a remembered message could then
 * shadow a genuine one with the same bytes (a reply to our RPC call equal
 * to our reply to a server RPC with the same id). So once a message's window
 * passes without its echo on a connection that has shown none, the filter
 * concludes the server does not echo and stays off until the next connection.
 *
 * @module
 */

/** A remembered message (a handle for {@linkcode EchoFilter.started}). */
export interface Sent {
  topic: string;
  payload: Uint8Array;
  /** When its window started; `undefined` while it waits for its acknowledgement or a connection. */
  at: number | undefined;
  /** Whether the server acknowledged it (or, QoS 0, it was written). */
  started: boolean;
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
  /** What the current connection showed: an echo, no echo in a whole window, or nothing yet. */
  #server: "echoes" | "silent" | "unknown" = "unknown";

  /**
   * Creates an empty filter.
   *
   * @param now Monotonic milliseconds.
   * @param windowMs How long a published message may come back.
   * @param max Most messages remembered (the oldest is forgotten first).
   */
  constructor(now: () => number, windowMs = 10_000, max = 1024) {
    this.#now = now;
    this.#windowMs = windowMs;
    this.#max = max;
  }

  /** Number of messages remembered. */
  get size(): number {
    return this.#sent.length;
  }

  /**
   * Remembers a message about to be published; its window starts at
   * {@linkcode EchoFilter.started}.
   *
   * @param topic Its topic.
   * @param payload Its payload (not mutated afterwards).
   * @param offline `true` when it waits for a connection (remembered even
   * when the current server does not echo: the next one may).
   * @returns The entry to pass to `started`, or `undefined` when the current
   * server does not echo.
   */
  record(topic: string, payload: Uint8Array, offline = false): Sent | undefined {
    this.#prune();
    if (this.#server === "silent" && !offline) return undefined;
    if (this.#sent.length >= this.#max) this.#sent.shift();
    const sent: Sent = { topic, payload, at: undefined, started: false };
    this.#sent.push(sent);
    return sent;
  }

  /**
   * Remembers a message being published: its window starts when `sending`
   * settles (the PUBACK; at QoS 0, the write).
   *
   * @param topic Its topic.
   * @param payload Its payload (not mutated afterwards).
   * @param offline `true` when it waits for a connection.
   * @param sending The publish.
   */
  track(topic: string, payload: Uint8Array, offline: boolean, sending: Promise<unknown>): void {
    const sent = this.record(topic, payload, offline);
    if (sent === undefined) return;
    const start = () => this.started(sent);
    sending.then(start, start);
  }

  /**
   * The server acknowledged a message (or, at QoS 0, it was written; or
   * its publish failed): its echo window starts now.
   *
   * @param sent What {@linkcode EchoFilter.record} returned.
   */
  started(sent: Sent): void {
    sent.started = true;
    sent.at = this.#now();
  }

  /**
   * The connection was lost: what was sent and not echoed yet may be sent
   * again (QoS 1 with DUP) after the reconnect, so every window waits for it.
   */
  disconnected(): void {
    for (const s of this.#sent) s.at = undefined;
  }

  /**
   * A connection was made: with `echoes`, the window of every message
   * acknowledged before starts now (the others start at their
   * acknowledgement); without (MQTT 5, No Local), everything is forgotten.
   *
   * @param echoes Whether the new connection can echo our messages.
   */
  connected(echoes: boolean): void {
    if (!echoes) {
      this.#sent = [];
      return;
    }
    this.#server = "unknown";
    const now = this.#now();
    for (const s of this.#sent) if (s.started) s.at ??= now;
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
    this.#server = "echoes";
    return true;
  }

  #prune(): void {
    if (this.#sent.length === 0) return;
    const oldest = this.#now() - this.#windowMs;
    const expired = (s: Sent) => s.at !== undefined && s.at < oldest;
    if (!this.#sent.some(expired)) return;
    if (this.#server === "unknown") {
      // A whole window without the echo: this server does not echo.
      this.#server = "silent";
      this.#sent = this.#sent.filter((s) => s.at === undefined);
    } else {
      this.#sent = this.#sent.filter((s) => !expired(s));
    }
  }
}
