/**
 * A strict MQTT server for conformance tests: a real loopback TCP listener
 * that frames and decodes what the client sends with the TS codec (a
 * malformed packet fails the test), checks the rules a server can observe
 * on every packet, and sends raw bytes or encoded packets back.
 *
 * @module
 */

import { AssertionError } from "node:assert/strict";
import { decodePacket, encode } from "../core/codec/mod.ts";
import type { Packet } from "../core/codec/types.ts";
import { hex, toHex } from "./_fake_transport.ts";

/** Safety net so a broken client fails a test instead of hanging it (not a timing assertion). */
const WAIT_MS = 5000;

/** The packet types whose `type` can be `T` (acks share one interface). */
export type PacketOf<T extends Packet["type"], P = Packet> = P extends Packet
  ? T extends P["type"] ? P : never
  : never;

/** One packet from the client: decoded, with its exact bytes. */
export interface Received {
  packet: Packet;
  bytes: Uint8Array;
}

/** The server side of one client connection. */
export class PeerConnection {
  readonly #conn: Deno.Conn;
  #buf = new Uint8Array(0);
  #frames: Uint8Array[] = [];
  #waiter: (() => void) | undefined;
  #eof = false;
  #count = 0;
  #disconnected = false;
  /** Protocol level of the client's CONNECT (4 until it arrived). */
  version: 4 | 5 = 4;
  /** Largest packet the client may send: the Maximum Packet Size of the CONNACK sent by {@linkcode accept}. */
  maxPacketSize = Infinity;

  /** Settles when the read loop ended. */
  readonly done: Promise<void>;

  constructor(conn: Deno.Conn) {
    this.#conn = conn;
    this.done = this.#readLoop();
  }

  async #readLoop(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      for (;;) {
        const n = await this.#conn.read(chunk);
        if (n === null) break;
        const next = new Uint8Array(this.#buf.length + n);
        next.set(this.#buf);
        next.set(chunk.subarray(0, n), this.#buf.length);
        this.#buf = next;
        this.#split();
        this.#wake();
      }
    } catch {
      // closed by the test
    }
    this.#eof = true;
    this.#wake();
  }

  /** Cuts whole packets (fixed header + remaining length) off the buffer. */
  #split(): void {
    for (;;) {
      let len = 0;
      let mul = 1;
      let i = 1;
      for (;; i++) {
        if (i >= this.#buf.length) return;
        if (i > 4) {
          throw new AssertionError({ message: "client sent a malformed remaining length" });
        }
        const b = this.#buf[i]!;
        len += (b & 0x7f) * mul;
        mul *= 128;
        if (!(b & 0x80)) break;
      }
      const total = i + 1 + len;
      if (this.#buf.length < total) return;
      this.#frames.push(this.#buf.slice(0, total));
      this.#buf = this.#buf.slice(total);
    }
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }

  async #wait(what: string): Promise<void> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      await new Promise<void>((resolve, reject) => {
        this.#waiter = resolve;
        timer = setTimeout(
          () => reject(new AssertionError({ message: `the client sent no ${what}` })),
          WAIT_MS,
        );
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * The next packet from the client, decoded strictly and checked against
   * the rules every client packet must follow.
   */
  async next(): Promise<Received> {
    for (;;) {
      while (this.#frames.length === 0) {
        if (this.#eof) {
          throw new AssertionError({ message: "the client closed the connection instead" });
        }
        await this.#wait("packet");
      }
      const bytes = this.#frames.shift()!;
      const packet = decodePacket(bytes, { protocolVersion: this.version });
      this.#check(packet, bytes);
      if (packet.type !== "pingreq" || !this.answerPings) return { packet, bytes };
      await this.send("d0 00");
    }
  }

  /** Answer PINGREQ with PINGRESP instead of returning it from {@linkcode next}. */
  answerPings = true;

  #check(p: Packet, bytes: Uint8Array): void {
    const fail = (rule: string) => {
      throw new AssertionError({ message: `${rule}: client sent ${toHex(bytes)}` });
    };
    if (this.#disconnected) fail("[MQTT-3.14.4-1] a packet after DISCONNECT");
    if (bytes.length > this.maxPacketSize) {
      fail(`[MQTT-3.2.2-15] a packet above the Maximum Packet Size (${this.maxPacketSize})`);
    }
    if (this.#count++ === 0) {
      if (p.type !== "connect") fail("[MQTT-3.1.0-1] the first packet must be CONNECT");
      else this.version = p.protocolVersion === 5 ? 5 : 4;
      return;
    }
    switch (p.type) {
      case "connect":
        return fail("[MQTT-3.1.0-2] a second CONNECT");
      case "connack":
      case "suback":
      case "unsuback":
      case "pingresp":
        return fail(`a ${p.type.toUpperCase()} is server-only`);
      case "publish":
        if (p.properties?.subscriptionIdentifiers) fail("[MQTT-3.3.4-6] Subscription Identifier");
        if (p.properties?.topicAlias !== undefined) fail("[MQTT-3.3.2-9] Topic Alias above 0");
        return;
      case "disconnect":
        this.#disconnected = true;
        return;
    }
  }

  /** The next packet, which must be of type `type`. */
  async expect<T extends Packet["type"]>(type: T): Promise<PacketOf<T>> {
    const { packet, bytes } = await this.next();
    if (packet.type !== type) {
      throw new AssertionError({
        message: `expected ${type.toUpperCase()}, the client sent ${toHex(bytes)}`,
      });
    }
    return packet as PacketOf<T>;
  }

  /** Waits until the client closes the connection, asserting it sent nothing more. */
  async expectClose(): Promise<void> {
    for (;;) {
      while (!this.#eof && this.#frames.length === 0) await this.#wait("end of stream");
      const first = this.#frames[0];
      if (!first || !this.answerPings || first[0] !== 0xc0) break;
      await this.next(); // a PINGREQ (checked: not after DISCONNECT), answered
    }
    if (this.#frames.length > 0) {
      throw new AssertionError({
        message: `expected the client to close, it sent ${toHex(this.#frames[0]!)}`,
      });
    }
  }

  /** Sends raw bytes (hex string or array) or an encoded packet. */
  async send(data: string | Uint8Array | Packet): Promise<void> {
    const bytes = typeof data === "string"
      ? hex(data)
      : data instanceof Uint8Array
      ? data
      : encode(data, { protocolVersion: this.version });
    try {
      let off = 0;
      while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
    } catch {
      // the client closed first: what it did is checked by the test
    }
  }

  /** Reads CONNECT and accepts it. */
  async accept(connack: string | Packet = {
    type: "connack",
    sessionPresent: false,
    reasonCode: 0,
  }): Promise<PacketOf<"connect">> {
    const connect = await this.expect("connect");
    try {
      const sent = typeof connack === "string"
        ? decodePacket(hex(connack), { protocolVersion: this.version })
        : connack;
      if (sent.type === "connack") {
        this.maxPacketSize = sent.properties?.maximumPacketSize ?? Infinity;
      }
    } catch {
      // a CONNACK the client must refuse: no limit to enforce
    }
    await this.send(connack);
    return connect;
  }

  /** Closes the server side. */
  close(): void {
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
  }
}

/** A listening strict server; hands out one {@linkcode PeerConnection} per client connection. */
export class StrictPeer implements AsyncDisposable {
  readonly #listener: Deno.TcpListener;
  readonly #conns: PeerConnection[] = [];
  #waiters: ((c: PeerConnection) => void)[] = [];
  #loop: Promise<void>;

  constructor() {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    this.#loop = this.#acceptLoop();
  }

  /** The port to connect to. */
  get port(): number {
    return this.#listener.addr.port;
  }

  async #acceptLoop(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        const c = new PeerConnection(conn);
        this.#conns.push(c);
        this.#waiters.shift()?.(c);
      }
    } catch {
      // listener closed
    }
  }

  /** Connection number `index` (0-based), waiting for it. */
  async connection(index: number): Promise<PeerConnection> {
    while (this.#conns.length <= index) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        await new Promise<void>((resolve, reject) => {
          this.#waiters.push(() => resolve());
          timer = setTimeout(
            () => reject(new AssertionError({ message: `no connection #${index} was opened` })),
            WAIT_MS,
          );
        });
      } finally {
        clearTimeout(timer);
      }
    }
    return this.#conns[index]!;
  }

  /** Number of connections opened so far. */
  get connections(): number {
    return this.#conns.length;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    for (const c of this.#conns) c.close();
    await this.#loop;
    await Promise.all(this.#conns.map((c) => c.done));
  }
}
