/**
 * Test doubles for the MQTT client: a scripted transport that expects and
 * answers exact bytes, a network that hands out such transports, and a fake
 * clock. No sockets, no real sleeps.
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import type { Clock, TimerHandle } from "../core/mqtt/clock.ts";
import { MqttClient, type MqttClientOptions } from "../core/mqtt/mod.ts";
import type { Transport, TransportFactory, TransportOptions } from "../core/mqtt/transport.ts";

/** Parses "10 0e 00 04" (spaces optional) into bytes. */
export function hex(s: string): Uint8Array {
  const clean = s.replace(/\s+/g, "");
  if (clean.length % 2 !== 0) throw new Error(`odd hex string: ${s}`);
  const out = new Uint8Array(clean.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Formats bytes as "10 0e 00 04". */
export function toHex(b: Uint8Array): string {
  return [...b].map((x) => x.toString(16).padStart(2, "0")).join(" ");
}

/** Lets queued microtasks (and promise chains) run. */
export async function settle(rounds = 50): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}

/**
 * A transport driven by the test: `expect()` checks the next bytes the
 * client wrote, `respond()` feeds bytes to the client's reader.
 */
export class FakeTransport implements Transport {
  readonly options: TransportOptions;
  #written: number[] = [];
  #consumed = 0;
  #inbox: Uint8Array[] = [];
  #reader: ((n: number | null) => void) | undefined;
  #readBuf: Uint8Array | undefined;
  #ended = false;
  closed = false;
  /** Number of `write` calls (batching checks). */
  writeCalls = 0;

  constructor(options: TransportOptions) {
    this.options = options;
  }

  read(buffer: Uint8Array): Promise<number | null> {
    if (this.closed) return Promise.reject(new Deno.errors.BadResource("closed"));
    const chunk = this.#inbox.shift();
    if (chunk) return Promise.resolve(this.#copy(chunk, buffer));
    if (this.#ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      this.#reader = resolve;
      this.#readBuf = buffer;
    });
  }

  #copy(chunk: Uint8Array, buffer: Uint8Array): number {
    const n = Math.min(chunk.length, buffer.length);
    buffer.set(chunk.subarray(0, n));
    if (n < chunk.length) this.#inbox.unshift(chunk.slice(n));
    return n;
  }

  /** Largest number of bytes one `write` call accepts (partial writes). */
  writeLimit = Infinity;

  #held: (() => void)[] | undefined;

  /** Makes writes wait until {@linkcode release} (a slow network); nothing is recorded meanwhile. */
  hold(): void {
    this.#held ??= [];
  }

  /** Completes the held writes, in order, and stops holding. */
  release(): void {
    const held = this.#held ?? [];
    this.#held = undefined;
    for (const w of held) w();
  }

  write(data: Uint8Array): Promise<number> {
    if (this.closed) return Promise.reject(new Deno.errors.BrokenPipe("closed"));
    const held = this.#held;
    if (held) return new Promise((resolve) => held.push(() => resolve(this.write(data))));
    this.writeCalls++;
    const n = Math.min(data.length, this.writeLimit);
    for (let i = 0; i < n; i++) this.#written.push(data[i]!);
    return Promise.resolve(n);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.#wake(null);
  }

  #wake(value: number | null | Uint8Array): void {
    const r = this.#reader;
    if (!r) return;
    this.#reader = undefined;
    if (value instanceof Uint8Array) r(this.#copy(value, this.#readBuf!));
    else r(value);
  }

  /** Feeds bytes to the client (one read). */
  respond(bytes: string | Uint8Array): void {
    const b = typeof bytes === "string" ? hex(bytes) : bytes;
    if (this.#reader) this.#wake(b);
    else this.#inbox.push(b);
  }

  /** Ends the stream from the server side (read returns null). */
  end(): void {
    this.#ended = true;
    if (this.#inbox.length === 0) this.#wake(null);
  }

  /** Bytes written and not yet checked. */
  get unchecked(): Uint8Array {
    return new Uint8Array(this.#written.slice(this.#consumed));
  }

  /**
   * Waits until the client wrote the given bytes next, and checks them.
   * @param bytes Expected bytes (hex string or array).
   */
  async expect(bytes: string | Uint8Array): Promise<void> {
    const want = typeof bytes === "string" ? hex(bytes) : bytes;
    for (let i = 0; i < 200 && this.#written.length - this.#consumed < want.length; i++) {
      await Promise.resolve();
    }
    const got = new Uint8Array(this.#written.slice(this.#consumed, this.#consumed + want.length));
    if (toHex(got) !== toHex(want)) {
      throw new AssertionError({
        message: `expected the client to write\n  ${toHex(want)}\nbut it wrote\n  ${
          toHex(this.unchecked)
        }`,
        actual: toHex(got),
        expected: toHex(want),
        operator: "expect",
      });
    }
    this.#consumed += want.length;
  }

  /** Asserts that nothing more was written (after letting microtasks run). */
  async expectNothing(): Promise<void> {
    await settle();
    if (this.#written.length > this.#consumed) {
      throw new AssertionError({ message: `unexpected bytes written: ${toHex(this.unchecked)}` });
    }
  }
}

/** Hands out a new {@linkcode FakeTransport} per connection attempt. */
export class FakeNetwork {
  readonly connections: FakeTransport[] = [];
  #waiters: ((t: FakeTransport) => void)[] = [];
  #failures: Error[] = [];
  #hang = false;

  /** The factory to pass as `transport`. */
  readonly factory: TransportFactory = (options) => {
    const failure = this.#failures.shift();
    if (failure) return Promise.reject(failure);
    if (this.#hang) {
      return new Promise((_, reject) => {
        options.signal?.addEventListener("abort", () => reject(options.signal?.reason), {
          once: true,
        });
      });
    }
    const t = new FakeTransport(options);
    this.connections.push(t);
    const w = this.#waiters.shift();
    if (w) w(t);
    return Promise.resolve(t);
  };

  /** Makes the next connection attempt fail with `error`. */
  failNext(error: Error = new Deno.errors.ConnectionRefused("refused")): void {
    this.#failures.push(error);
  }

  /** Makes connection attempts hang until aborted. */
  hang(on = true): void {
    this.#hang = on;
  }

  /**
   * Waits for connection number `index` (0-based).
   * @param index Which connection.
   */
  async connection(index: number): Promise<FakeTransport> {
    for (let i = 0; i < 200 && this.connections.length <= index; i++) await Promise.resolve();
    const t = this.connections[index];
    if (!t) throw new AssertionError({ message: `no connection #${index} was opened` });
    return t;
  }
}

/** A clock whose time moves only when the test says so. */
export class FakeClock implements Clock {
  #now = 0;
  #next = 1;
  #timers = new Map<number, { at: number; fn: () => void }>();

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#next++;
    this.#timers.set(id, { at: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Number of pending timers. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Delays of the pending timers from now, ascending. */
  get delays(): number[] {
    return [...this.#timers.values()].map((t) => t.at - this.#now).sort((a, b) => a - b);
  }

  /**
   * Moves time forward, firing due timers in order and letting promise
   * chains run after each.
   * @param ms Milliseconds.
   */
  async advance(ms: number): Promise<void> {
    const end = this.#now + ms;
    for (;;) {
      await settle();
      let nextId = -1;
      let nextAt = Infinity;
      for (const [id, t] of this.#timers) {
        if (t.at <= end && t.at < nextAt) {
          nextAt = t.at;
          nextId = id;
        }
      }
      if (nextId < 0) break;
      const t = this.#timers.get(nextId)!;
      this.#timers.delete(nextId);
      this.#now = Math.max(this.#now, t.at);
      t.fn();
    }
    this.#now = end;
    await settle();
  }
}

/**
 * An `MqttClient` on a fresh {@linkcode FakeNetwork} and {@linkcode FakeClock}: host "h", client
 * id "c", reconnects after exactly 1 s (no jitter); `options` override any of it.
 */
export function fakeClient(options: Partial<MqttClientOptions> = {}): {
  net: FakeNetwork;
  clock: FakeClock;
  client: MqttClient;
} {
  const net = new FakeNetwork();
  const clock = new FakeClock();
  const client = new MqttClient({
    host: "h",
    clientId: "c",
    transport: net.factory,
    clock,
    reconnect: { initialDelay: 1000, jitter: 0 },
    ...options,
  });
  return { net, clock, client };
}
