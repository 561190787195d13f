/**
 * An independent, strict MQTT 5 / 3.1.1 server peer for conformance tests.
 *
 * Everything the client sends is framed here (fixed header and Remaining
 * Length, checked byte by byte) and then parsed with `mqtt-packet`'s parser;
 * everything the peer sends is written with `mqtt-packet`'s `generate`, or as
 * hand-made raw bytes for deliberately malformed packets. Nothing of the
 * project's own codec is used. Every packet is recorded with its raw bytes
 * and arrival time, and the normative statements a server can observe are
 * checked as packets arrive; breaches are collected in
 * {@linkcode StrictPeer.violations} (each names its statement).
 *
 * The packet shapes and byte-level helpers live in `_strict_peer_wire.ts`,
 * the conformance checks (including those `mqtt-packet` leaves out, where it
 * is laxer than the specification) in `_strict_peer_checks.ts`.
 *
 * @module
 */

import mqtt from "mqtt-packet";
import { Buffer } from "node:buffer";
import {
  type ConnackReply,
  FROM_CLIENT,
  type MP,
  PACKET_TYPES,
  readVbi,
  type Rec,
  timeout,
} from "./_strict_peer_wire.ts";
import {
  checkConnectFlags,
  checkFrame,
  checkHeaderFlags,
  checkPacket,
  checkRemainingLength,
  type Violate,
} from "./_strict_peer_checks.ts";

export { bytesOf, type ConnackReply, type MP, type Rec, textOf, vbi } from "./_strict_peer_wire.ts";

/** Options of a {@linkcode StrictPeer}. */
export interface StrictPeerOptions {
  /**
   * Called for each new connection before any of its bytes are handled:
   * configure its behaviour there (`connack`, `autoPuback`, …).
   */
  onConnection?: (conn: PeerConn, index: number) => void;
}

/** One accepted network connection. */
export class PeerConn {
  readonly index: number;
  readonly packets: Rec[] = [];
  readonly violations: string[] = [];
  /** Protocol level from the CONNECT (5 until then). */
  version: 4 | 5 = 5;
  /** The CONNECT, once received. */
  connect: MP | undefined;
  /** The CONNACK the peer sent, once sent. */
  connackSent: MP | undefined;
  /** Reply to the CONNECT (default: accept; MQTT 5 CONNACK without properties). */
  connack: (connect: MP, conn: PeerConn) => ConnackReply = (c) =>
    c.protocolVersion === 5
      ? { cmd: "connack", reasonCode: 0, sessionPresent: false }
      : { cmd: "connack", returnCode: 0, sessionPresent: false };
  /** Milliseconds before the CONNACK is written. */
  connackDelay = 0;
  /** Answer QoS 1 PUBLISH with PUBACK at once (a function decides per packet). */
  autoPuback: boolean | ((p: MP) => boolean) = true;
  /** Answer SUBSCRIBE with SUBACK granting the requested QoS. */
  autoSuback = true;
  /** Answer UNSUBSCRIBE with UNSUBACK. */
  autoUnsuback = true;
  /** Answer PINGREQ with PINGRESP. */
  autoPingresp = true;
  /** Answer PUBREC with PUBREL and PUBCOMP nothing (the server's QoS 2 flow). */
  autoPubrel = true;
  /** When the client sent DISCONNECT, `performance.now()`. */
  disconnectAt: number | undefined;
  /** When the client closed the connection (end of stream), `performance.now()`. */
  endedAt: number | undefined;
  /** Set when the peer closed the connection itself. */
  closedByPeer = false;
  /** Whether the peer sent a DISCONNECT. */
  serverDisconnected = false;
  /** Client QoS 1 PUBLISH not yet acknowledged by the peer: id -> packet. */
  readonly unacked = new Map<number, MP>();
  /** Highest number of unacknowledged client QoS 1 PUBLISH seen at once. */
  maxUnacked = 0;
  /** Client SUBSCRIBE/UNSUBSCRIBE ids awaiting SUBACK/UNSUBACK. */
  readonly pendingSubIds = new Set<number>();
  /** Server PUBLISH (QoS > 0) ids awaiting PUBACK/PUBREC from the client. */
  readonly serverInflight = new Map<number, MP>();
  /** Server QoS 2 ids for which the client sent PUBREC and the peer PUBREL. */
  readonly serverReleased = new Set<number>();

  #conn: Deno.Conn;
  #peer: StrictPeer;
  #buf = new Uint8Array(0);
  #parser: ReturnType<typeof mqtt.parser>;
  #parsed: MP[] = [];
  #parseErrors: Error[] = [];
  #waiters: (() => void)[] = [];
  #cursor = 0;
  #writing: Promise<void> = Promise.resolve();
  #closed = false;
  #lastT = 0;
  /** The CONNECT flags byte as sent (for the CONNECT checks). */
  #connectFlags = 0;
  #violate: Violate = (statement, what) => this.violate(statement, what);
  readonly done: Promise<void>;
  #doneResolve!: () => void;

  constructor(conn: Deno.Conn, peer: StrictPeer, index: number) {
    this.#conn = conn;
    this.#peer = peer;
    this.index = index;
    this.#parser = mqtt.parser({ protocolVersion: 5 } as Parameters<typeof mqtt.parser>[0]);
    this.#parser.on("packet", (p: unknown) => this.#parsed.push(p as MP));
    this.#parser.on("error", (e: Error) => this.#parseErrors.push(e));
    this.done = new Promise((r) => this.#doneResolve = r);
  }

  /** Whether the connection is closed (either side). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Effective keepalive in seconds (Server Keep Alive wins). */
  get keepalive(): number {
    const ska = this.connackSent?.properties?.serverKeepAlive;
    return typeof ska === "number" ? ska : this.connect?.keepalive ?? 0;
  }

  /** Records a breach of `statement`. */
  violate(statement: string, what: string): void {
    const v = `conn#${this.index} [${statement}] ${what}`;
    this.violations.push(v);
    this.#peer.violations.push(v);
  }

  /** @internal Read loop. */
  async run(): Promise<void> {
    const chunk = new Uint8Array(64 * 1024);
    try {
      while (!this.#closed) {
        let n: number | null;
        try {
          n = await this.#conn.read(chunk);
        } catch {
          n = null;
        }
        if (n === null) {
          if (!this.#closed) this.endedAt = performance.now();
          break;
        }
        this.#onBytes(chunk.slice(0, n));
      }
    } finally {
      this.close();
      await this.#writing.catch(() => {});
      this.#doneResolve();
      this.#wake();
    }
  }

  #onBytes(bytes: Uint8Array): void {
    const merged = new Uint8Array(this.#buf.length + bytes.length);
    merged.set(this.#buf);
    merged.set(bytes, this.#buf.length);
    this.#buf = merged;
    let off = 0;
    while (off + 2 <= this.#buf.length && !this.#closed) {
      const len = readVbi(this.#buf, off + 1);
      if (!len) break;
      if (len.bytes < 0) {
        this.violate("MQTT-1.5.5-1", "Remaining Length longer than 4 bytes (malformed)");
        this.#malformedFromClient();
        return;
      }
      const total = 1 + len.bytes + len.value;
      if (off + total > this.#buf.length) break;
      const raw = this.#buf.slice(off, off + total);
      off += total;
      checkRemainingLength(len.value, len.bytes, this.#violate);
      this.#onFrame(raw, 1 + len.bytes);
    }
    this.#buf = this.#buf.slice(off);
  }

  #malformedFromClient(): void {
    if (this.version === 5 && this.connackSent) {
      this.send({ cmd: "disconnect", reasonCode: 0x81 });
    }
    this.close();
  }

  #onFrame(raw: Uint8Array, headerLen: number): void {
    const t = performance.now();
    const type = PACKET_TYPES[raw[0]! >> 4]!;
    const flags = raw[0]! & 0x0f;
    const body = raw.subarray(headerLen);
    checkHeaderFlags(type, flags, this.#violate);
    if (this.packets.length === 0 && type !== "connect") {
      this.violate("MQTT-3.1.0-1", `first packet is ${type}, not CONNECT`);
      this.close();
      return;
    }
    if (!FROM_CLIENT.has(type)) {
      this.violate("MQTT-2.1.3 / 4.13", `client sent packet type ${type} (${raw[0]! >> 4})`);
      this.#malformedFromClient();
      return;
    }
    checkFrame(type, flags, body, this.version, this.#violate);
    if (type === "connect") this.#connectFlags = checkConnectFlags(body, this.#violate);

    // Parse one whole frame with mqtt-packet.
    this.#parsed = [];
    this.#parseErrors = [];
    this.#parser.parse(Buffer.from(raw));
    if (this.#parseErrors.length > 0 || this.#parsed.length !== 1) {
      this.violate(
        "MQTT-4.13 malformed",
        `mqtt-packet could not parse ${type}: ${
          this.#parseErrors.map((e) => e.message).join("; ") || "no packet"
        }`,
      );
      this.#malformedFromClient();
      return;
    }
    const p = this.#parsed[0]!;
    if (type === "publish" && typeof p.payload !== "string") {
      p.payload = new Uint8Array(p.payload ?? []);
    }
    const rec: Rec = { p, raw, t, afterConnack: this.connackSent !== undefined };
    checkPacket(rec, this, this.#lastT, this.#connectFlags, this.#violate);
    this.#lastT = t;
    this.packets.push(rec);
    this.#react(p);
    this.#wake();
  }

  #react(p: MP): void {
    switch (p.cmd) {
      case "connect": {
        const reply = this.connack(p, this);
        const go = () => {
          if (this.#closed) return;
          if (reply === "raw-close") return this.close();
          if (reply === undefined) return;
          this.sendConnack(reply);
        };
        if (this.connackDelay > 0) {
          const timer = setTimeout(go, this.connackDelay);
          this.done.then(() => clearTimeout(timer));
        } else go();
        return;
      }
      case "publish":
        if (p.qos === 1) {
          const auto = typeof this.autoPuback === "function" ? this.autoPuback(p) : this.autoPuback;
          if (auto) this.puback(p.messageId!);
        }
        return;
      case "subscribe":
        if (this.autoSuback) {
          this.suback(p.messageId!, (p.subscriptions ?? []).map((s) => s.qos));
        }
        return;
      case "unsubscribe":
        if (this.autoUnsuback) {
          this.unsuback(p.messageId!, (p.unsubscriptions ?? []).length);
        }
        return;
      case "pingreq":
        if (this.autoPingresp) this.send({ cmd: "pingresp" });
        return;
      case "pubrec":
        if (this.autoPubrel) this.pubrel(p.messageId!);
        return;
      case "disconnect":
        return;
    }
  }

  /** Sends a CONNACK (and closes after a refusal, as the server must [MQTT-3.2.2-7]). */
  sendConnack(reply: MP): Promise<void> {
    this.connackSent = reply;
    const refused = (reply.reasonCode ?? reply.returnCode ?? 0) !== 0;
    const w = this.send(reply, this.version);
    if (refused) return w.then(() => this.close());
    return w;
  }

  /** Acknowledges a client QoS 1 PUBLISH. */
  puback(id: number, reasonCode?: number): Promise<void> {
    this.unacked.delete(id);
    return this.send(
      reasonCode === undefined
        ? { cmd: "puback", messageId: id }
        : { cmd: "puback", messageId: id, reasonCode },
    );
  }

  /** Answers a SUBSCRIBE. */
  suback(id: number, granted: number[]): Promise<void> {
    this.pendingSubIds.delete(id);
    return this.send({ cmd: "suback", messageId: id, granted });
  }

  /** Answers an UNSUBSCRIBE. */
  unsuback(id: number, count: number): Promise<void> {
    this.pendingSubIds.delete(id);
    return this.send(
      this.version === 5
        ? { cmd: "unsuback", messageId: id, granted: new Array(count).fill(0) }
        : { cmd: "unsuback", messageId: id },
    );
  }

  /** Releases a server QoS 2 message. */
  pubrel(id: number): Promise<void> {
    this.serverInflight.delete(id);
    this.serverReleased.add(id);
    return this.send({ cmd: "pubrel", messageId: id });
  }

  /** Sends a server PUBLISH (QoS > 0 tracked until acknowledged). */
  publish(p: Omit<MP, "cmd"> & { topic: string }): Promise<void> {
    const packet: MP = { cmd: "publish", qos: 0, retain: false, dup: false, ...p };
    if ((packet.qos ?? 0) > 0) this.serverInflight.set(packet.messageId!, packet);
    if (typeof packet.payload === "string" || packet.payload === undefined) {
      packet.payload = Buffer.from(packet.payload ?? "");
    } else packet.payload = Buffer.from(packet.payload);
    return this.send(packet);
  }

  /** Encodes `p` with mqtt-packet and writes it. */
  send(p: MP, version: 4 | 5 = this.version): Promise<void> {
    if (p.cmd === "disconnect") this.serverDisconnected = true;
    const bytes = mqtt.generate(p as never, { protocolVersion: version } as never);
    return this.sendRaw(new Uint8Array(bytes));
  }

  /** Writes raw bytes (for malformed packets). */
  sendRaw(bytes: Uint8Array | number[]): Promise<void> {
    const data = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
    this.#writing = this.#writing.then(async () => {
      if (this.#closed) return;
      try {
        let off = 0;
        while (off < data.length) off += await this.#conn.write(data.subarray(off));
      } catch {
        // the client went away
      }
    });
    return this.#writing;
  }

  /** Closes the connection from the peer's side. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    if (this.endedAt === undefined) this.closedByPeer = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#wake();
  }

  /** Closes after pending writes went out. */
  async closeAfterWrites(): Promise<void> {
    await this.#writing;
    this.close();
  }

  #wake(): void {
    const w = this.#waiters;
    this.#waiters = [];
    for (const f of w) f();
  }

  #changed(): Promise<void> {
    return new Promise((r) => this.#waiters.push(r));
  }

  /**
   * Waits for the first recorded packet (from index `from`) matching `pred`.
   * @returns The packet record.
   */
  async waitFor(pred: (p: MP) => boolean, ms = 3000, from = 0): Promise<Rec> {
    const start = performance.now();
    for (;;) {
      for (let i = from; i < this.packets.length; i++) {
        if (pred(this.packets[i]!.p)) return this.packets[i]!;
      }
      if (this.#closed) {
        throw new Error(`StrictPeer: conn#${this.index} closed before the expected packet`);
      }
      const left = ms - (performance.now() - start);
      if (left <= 0) throw new Error(`StrictPeer: conn#${this.index}: expected packet not seen`);
      await timeout(this.#changed(), left, `a packet on conn#${this.index}`).catch(() => {});
    }
  }

  /** Next packet after the cursor matching `cmd` (a string or a predicate); advances the cursor. */
  async next(cmd: string | ((p: MP) => boolean), ms = 3000): Promise<Rec> {
    const pred = typeof cmd === "string" ? (p: MP) => p.cmd === cmd : cmd;
    const rec = await this.waitFor(pred, ms, this.#cursor);
    this.#cursor = this.packets.indexOf(rec) + 1;
    return rec;
  }

  /** Waits until `n` packets satisfy `pred`. */
  async waitCount(pred: (p: MP) => boolean, n: number, ms = 3000): Promise<Rec[]> {
    const start = performance.now();
    for (;;) {
      const got = this.packets.filter((r) => pred(r.p));
      if (got.length >= n) return got;
      if (this.#closed) {
        throw new Error(`StrictPeer: conn#${this.index} closed with ${got.length}/${n} packets`);
      }
      const left = ms - (performance.now() - start);
      if (left <= 0) {
        throw new Error(`StrictPeer: conn#${this.index}: ${got.length}/${n} packets seen`);
      }
      await timeout(this.#changed(), left, "packets").catch(() => {});
    }
  }

  /** Waits for the end of the connection (either side). */
  async waitClosed(ms = 3000): Promise<void> {
    await timeout(this.done, ms, `conn#${this.index} to close`);
  }

  /** Packets of one type, in order. */
  all(cmd: string): MP[] {
    return this.packets.filter((r) => r.p.cmd === cmd).map((r) => r.p);
  }
}

/** A loopback MQTT server peer. */
export class StrictPeer {
  readonly port: number;
  readonly conns: PeerConn[] = [];
  readonly violations: string[] = [];
  #listener: Deno.Listener;
  #options: StrictPeerOptions;
  #loops: Promise<void>[] = [];
  #accepting: Promise<void>;
  #waiters: (() => void)[] = [];
  #connCursor = 0;

  private constructor(listener: Deno.Listener, options: StrictPeerOptions) {
    this.#listener = listener;
    this.#options = options;
    this.port = (listener.addr as Deno.NetAddr).port;
    this.#accepting = this.#accept();
  }

  /** Starts a peer on 127.0.0.1 and an ephemeral port. */
  static start(options: StrictPeerOptions = {}): StrictPeer {
    const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    return new StrictPeer(listener, options);
  }

  async #accept(): Promise<void> {
    for (;;) {
      let c: Deno.TcpConn;
      try {
        c = await this.#listener.accept() as Deno.TcpConn;
      } catch {
        return;
      }
      c.setNoDelay(true);
      const conn = new PeerConn(c, this, this.conns.length);
      this.#options.onConnection?.(conn, conn.index);
      this.conns.push(conn);
      this.#loops.push(conn.run());
      const w = this.#waiters;
      this.#waiters = [];
      for (const f of w) f();
    }
  }

  /** The next connection not yet handed out (in accept order). */
  async nextConn(ms = 3000): Promise<PeerConn> {
    const start = performance.now();
    while (this.conns.length <= this.#connCursor) {
      const left = ms - (performance.now() - start);
      if (left <= 0) throw new Error("StrictPeer: no new connection");
      await timeout(new Promise<void>((r) => this.#waiters.push(r)), left, "a connection")
        .catch(() => {});
    }
    return this.conns[this.#connCursor++]!;
  }

  /** Throws if any normative statement was breached. */
  assertClean(): void {
    if (this.violations.length > 0) {
      throw new Error(`StrictPeer saw violations:\n  ${this.violations.join("\n  ")}`);
    }
  }

  /** Stops listening and closes every connection. */
  async close(): Promise<void> {
    try {
      this.#listener.close();
    } catch {
      // closed
    }
    await this.#accepting;
    for (const c of this.conns) c.close();
    await Promise.all(this.#loops);
    for (const f of this.#waiters) f();
  }

  /** `await using peer = StrictPeer.start()`. */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}
