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
 * The packet shapes and byte-level helpers live in `_strict_peer_wire.ts`.
 *
 * Where `mqtt-packet` is laxer than the specification the peer adds the
 * missing checks itself (see `checkFrame`, `checkConnect`, `checkProperties`):
 * - its parser ignores bytes left over inside a packet's Remaining Length;
 * - it accepts non-minimal Variable Byte Integers [MQTT-1.5.5-1];
 * - it accepts a 3.1.1 password without a user name [MQTT-3.1.2-22 (3.1.1)];
 * - it decodes ill-formed UTF-8 with replacement characters instead of
 *   refusing it [MQTT-1.5.4-1], and accepts U+0000 [MQTT-1.5.4-2];
 * - it accepts QoS > 0 PUBLISH / SUBSCRIBE / UNSUBSCRIBE with Packet
 *   Identifier 0 [MQTT-2.2.1-3];
 * - it turns a property that may appear once into an array instead of
 *   refusing it (Protocol Error), and accepts Receive Maximum / Maximum
 *   Packet Size 0;
 * - it accepts protocol name "MQIsdp" with any level, and wildcards in a
 *   PUBLISH topic [MQTT-3.3.2-2].
 *
 * @module
 */

import mqtt from "mqtt-packet";
import { Buffer } from "node:buffer";
import {
  bytesOf,
  type ConnackReply,
  FROM_CLIENT,
  type MP,
  MULTI,
  PACKET_TYPES,
  readVbi,
  type Rec,
  sameBytes,
  strictUtf8,
  timeout,
  vbiSize,
} from "./_strict_peer_wire.ts";

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
      if (len.bytes !== vbiSize(len.value)) {
        this.violate("MQTT-1.5.5-1", "Remaining Length not encoded in the fewest bytes");
      }
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
    // Fixed header flags [MQTT-2.2.2-1].
    if (type === "subscribe" && flags !== 2) {
      this.violate("MQTT-3.8.1-1", `SUBSCRIBE fixed header flags 0b${flags.toString(2)}`);
    } else if (type === "unsubscribe" && flags !== 2) {
      this.violate("MQTT-3.10.1-1", `UNSUBSCRIBE fixed header flags 0b${flags.toString(2)}`);
    } else if (type === "pubrel" && flags !== 2) {
      this.violate("MQTT-3.6.1-1", `PUBREL fixed header flags 0b${flags.toString(2)}`);
    } else if (type !== "publish" && !["subscribe", "unsubscribe", "pubrel"].includes(type)) {
      if (flags !== 0) this.violate("MQTT-2.2.2-1", `${type} fixed header flags ${flags}`);
    }
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
    if (type === "publish") {
      const qos = (flags >> 1) & 3;
      if (qos === 3) this.violate("MQTT-3.3.1-4", "PUBLISH with QoS 3");
      if (qos === 0 && (flags & 8)) this.violate("MQTT-3.3.1-2", "QoS 0 PUBLISH with DUP=1");
    }
    // Fixed-size packets mqtt-packet does not measure.
    if ((type === "pingreq" || (type === "disconnect" && this.version === 4)) && body.length) {
      this.violate("MQTT-3.12.1 / 3.14.1", `${type} with Remaining Length ${body.length}`);
    }
    if (["puback", "pubrec", "pubrel", "pubcomp"].includes(type)) {
      if (this.version === 4 ? body.length !== 2 : body.length < 2) {
        this.violate("MQTT-3.4.2", `${type} with Remaining Length ${body.length}`);
      }
      if (this.version === 5 && body.length >= 4) {
        const pl = readVbi(body, 3);
        if (!pl || pl.bytes < 0 || 3 + pl.bytes + pl.value !== body.length) {
          this.violate("MQTT-3.4.2.2", `${type} property length does not fill the packet`);
        }
      }
    }
    // UTF-8 strings checked on raw bytes: mqtt-packet decodes them leniently.
    this.#checkStrings(type, flags, body);
    if (type === "connect") this.#checkConnectFlags(body);

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
    this.#check(rec);
    this.#lastT = t;
    this.packets.push(rec);
    this.#react(p);
    this.#wake();
  }

  #checkStrings(type: string, flags: number, body: Uint8Array): void {
    const str = (off: number, statementField: string): number => {
      if (off + 2 > body.length) return off;
      const len = (body[off]! << 8) | body[off + 1]!;
      const s = body.subarray(off + 2, off + 2 + len);
      try {
        const text = strictUtf8.decode(s);
        if (text.includes("\u0000")) {
          this.violate("MQTT-1.5.4-2", `${statementField} contains U+0000`);
        }
      } catch {
        this.violate("MQTT-1.5.4-1", `${statementField} is ill-formed UTF-8`);
      }
      return off + 2 + len;
    };
    if (type === "publish") {
      str(0, "PUBLISH topic");
      if (((flags >> 1) & 3) > 0 && body.length >= 2) {
        const tl = (body[0]! << 8) | body[1]!;
        if (body.length >= tl + 4 && ((body[tl + 2]! << 8) | body[tl + 3]!) === 0) {
          this.violate("MQTT-2.2.1-3", "QoS > 0 PUBLISH with Packet Identifier 0");
        }
      }
    } else if (type === "subscribe" || type === "unsubscribe") {
      if (body.length >= 2 && ((body[0]! << 8) | body[1]!) === 0) {
        this.violate("MQTT-2.2.1-3", `${type.toUpperCase()} with Packet Identifier 0`);
      }
    }
  }

  #check(rec: Rec): void {
    const p = rec.p;
    if (this.disconnectAt !== undefined) {
      this.violate("MQTT-3.14.4-1", `${p.cmd} sent after the client's DISCONNECT`);
    }
    if (this.packets.length === 0) {
      if (p.cmd !== "connect") {
        this.violate("MQTT-3.1.0-1", `first packet is ${p.cmd}, not CONNECT`);
        return;
      }
    } else if (p.cmd === "connect") {
      this.violate("MQTT-3.1.0-2", "second CONNECT on one connection");
    }
    if (!["connect", "disconnect", "auth"].includes(p.cmd) && !rec.afterConnack) {
      // The strict expectation of this suite: a client waits for CONNACK (MQTT 5 only allows
      // AUTH/DISCONNECT before it when authenticating [MQTT-3.1.2-30]; a refusing server
      // ignores everything after the CONNECT [MQTT-3.1.4-6]).
      this.violate("MQTT-3.1.0-1/3.1.4-6 (strict)", `${p.cmd} sent before CONNACK`);
    }
    const k = this.keepalive;
    if (
      // 250 ms of slack for a busy machine's timers (CI shares its two cores).
      this.connackSent && k > 0 && this.#lastT > 0 && rec.t - this.#lastT > k * 1000 + 250
    ) {
      this.violate(
        this.version === 5 ? "MQTT-3.1.2-20" : "MQTT-3.1.2-23",
        `${Math.round(rec.t - this.#lastT)} ms between client packets, keepalive ${k} s`,
      );
    }
    if (p.properties) this.#checkProperties(p);
    if (this.connackSent?.properties?.maximumPacketSize !== undefined) {
      const max = this.connackSent.properties.maximumPacketSize as number;
      if (rec.raw.length > max) {
        this.violate("MQTT-3.2.2-15", `${p.cmd} of ${rec.raw.length} bytes > Maximum ${max}`);
      }
    }
    switch (p.cmd) {
      case "connect":
        return this.#checkConnect(rec);
      case "publish":
        return this.#checkPublish(p);
      case "subscribe":
      case "unsubscribe": {
        const id = p.messageId ?? 0;
        if (this.unacked.has(id) || this.pendingSubIds.has(id)) {
          this.violate("MQTT-2.2.1-3", `${p.cmd} reuses in-flight Packet Identifier ${id}`);
        }
        this.pendingSubIds.add(id);
        const n = p.cmd === "subscribe" ? p.subscriptions?.length : p.unsubscriptions?.length;
        if (!n) {
          this.violate(
            p.cmd === "subscribe" ? "MQTT-3.8.3-2" : "MQTT-3.10.3-2",
            `${p.cmd} without topic filters`,
          );
        }
        for (const s of p.subscriptions ?? []) {
          if (this.version === 4 && (s.nl || s.rap || s.rh)) {
            this.violate("MQTT-3.8.3-4 (3.1.1)", "3.1.1 SUBSCRIBE reserved option bits set");
          }
        }
        return;
      }
      case "puback": {
        const id = p.messageId ?? 0;
        const sent = this.serverInflight.get(id);
        if (!sent || sent.qos !== 1) {
          this.violate(
            this.version === 5 ? "MQTT-4.3.2-4" : "MQTT-4.3.2-2",
            `PUBACK ${id} matches no QoS 1 PUBLISH in flight from the server`,
          );
        } else this.serverInflight.delete(id);
        return;
      }
      case "pubrec": {
        const id = p.messageId ?? 0;
        const sent = this.serverInflight.get(id);
        if (!sent || sent.qos !== 2) {
          this.violate("MQTT-4.3.3-8", `PUBREC ${id} matches no QoS 2 PUBLISH from the server`);
        }
        return;
      }
      case "pubcomp": {
        const id = p.messageId ?? 0;
        if (!this.serverReleased.delete(id)) {
          this.violate("MQTT-4.3.3-11", `PUBCOMP ${id} without a PUBREL`);
        }
        return;
      }
      case "disconnect":
        this.disconnectAt = rec.t;
        return;
    }
  }

  #connectFlags = 0;

  /** Checks the CONNECT flags byte as sent (mqtt-packet stops at the first fault it sees). */
  #checkConnectFlags(body: Uint8Array): void {
    const nameLen = (body[0]! << 8) | body[1]!;
    const level = body[2 + nameLen] ?? 0;
    const flags = body[2 + nameLen + 1] ?? 0;
    this.#connectFlags = flags;
    if (flags & 1) this.violate("MQTT-3.1.2-3", "CONNECT reserved flag is 1");
    const will = (flags & 0x04) !== 0;
    if (!will && (flags & 0x18)) {
      this.violate(level === 5 ? "MQTT-3.1.2-11" : "MQTT-3.1.2-13", "Will QoS != 0 without Will");
    }
    if (!will && (flags & 0x20)) {
      this.violate(level === 5 ? "MQTT-3.1.2-13" : "MQTT-3.1.2-15", "Will Retain without Will");
    }
    if (will && ((flags >> 3) & 3) === 3) this.violate("MQTT-3.1.2-12", "Will QoS 3");
    if (level === 4 && (flags & 0x40) && !(flags & 0x80)) {
      this.violate("MQTT-3.1.2-22 (3.1.1)", "password flag without user name flag");
    }
  }

  #checkConnect(rec: Rec): void {
    const p = rec.p;
    this.connect = p;
    const level = p.protocolVersion;
    if (!(p.protocolId === "MQTT" && (level === 4 || level === 5))) {
      this.violate("MQTT-3.1.2-1", `protocol name/level ${p.protocolId}/${level}`);
    }
    this.version = level === 4 ? 4 : 5;
    const flags = this.#connectFlags;
    const user = (flags & 0x80) !== 0;
    const pass = (flags & 0x40) !== 0;
    if ((p.username !== undefined) !== user) {
      this.violate("MQTT-3.1.2-16/17", "user name presence does not match its flag");
    }
    if ((p.password !== undefined) !== pass) {
      this.violate("MQTT-3.1.2-18/19", "password presence does not match its flag");
    }
    if (level === 4 && p.clientId === "" && !p.clean) {
      this.violate("MQTT-3.1.3-7 (3.1.1)", "empty Client Identifier with CleanSession 0");
    }
    // The whole packet must be consumed (mqtt-packet ignores leftovers): regenerate and compare.
    // mqtt-packet's generate refuses a password without a user name, which MQTT 5 allows
    // (3.1.2.9): regenerate without it and add its length back.
    const alone = level === 5 && pass && !user && p.password !== undefined;
    let size: number;
    try {
      const q = alone ? { ...p, password: undefined } : p;
      size = mqtt.generate(q as never, { protocolVersion: level } as never).length;
    } catch (e) {
      this.violate("MQTT-3.1", `mqtt-packet cannot re-encode the CONNECT: ${e}`);
      return;
    }
    if (alone) size += 2 + p.password!.length + (rec.raw.length - 2 > 127 ? 1 : 0);
    const again = { length: size };
    if (again.length !== rec.raw.length) {
      this.violate(
        "MQTT-3.1 length",
        `CONNECT is ${rec.raw.length} bytes, its fields make ${again.length}`,
      );
    }
  }

  #checkPublish(p: MP): void {
    const topic = p.topic ?? "";
    const alias = p.properties?.topicAlias;
    if (/[+#]/.test(topic)) this.violate("MQTT-3.3.2-2", `wildcard in PUBLISH topic "${topic}"`);
    if (topic === "" && alias === undefined) {
      this.violate("MQTT-3.3.2-1", "empty topic without Topic Alias");
    }
    const props = this.connackSent?.properties ?? {};
    if (alias !== undefined) {
      const tam = (props.topicAliasMaximum as number | undefined) ?? 0;
      if (tam === 0) {
        this.violate("MQTT-3.2.2-18", "Topic Alias sent, the server allows none");
      } else if ((alias as number) > tam || alias === 0) {
        this.violate("MQTT-3.2.2-17", `Topic Alias ${alias} out of 1..${tam}`);
      }
    }
    if (p.properties?.subscriptionIdentifier !== undefined) {
      this.violate("MQTT-3.3.4-6", "client PUBLISH with Subscription Identifier");
    }
    const maxQos = props.maximumQoS as number | undefined;
    if (maxQos !== undefined && (p.qos ?? 0) > maxQos) {
      this.violate("MQTT-3.2.2-11", `PUBLISH QoS ${p.qos} > Maximum QoS ${maxQos}`);
    }
    if (props.retainAvailable === false && p.retain) {
      this.violate("MQTT-3.2.2-14", "retained PUBLISH, Retain Available is 0");
    }
    if ((p.qos ?? 0) === 0) return;
    const id = p.messageId ?? 0;
    const prev = this.unacked.get(id);
    if (p.dup) {
      if (prev && (prev.topic !== p.topic || !sameBytes(bytesOf(prev), bytesOf(p)))) {
        this.violate("MQTT-4.3.2 / 3.3.1-1", `DUP PUBLISH ${id} differs from the original`);
      }
    } else if (prev || this.pendingSubIds.has(id)) {
      this.violate("MQTT-2.2.1-3", `new PUBLISH reuses in-flight Packet Identifier ${id}`);
    }
    this.unacked.set(id, p);
    this.maxUnacked = Math.max(this.maxUnacked, this.unacked.size);
    const rm = (props.receiveMaximum as number | undefined) ?? 65535;
    if (this.version === 5 && this.unacked.size > rm) {
      this.violate(
        "MQTT-3.3.4-7",
        `${this.unacked.size} QoS 1 PUBLISH unacknowledged, Receive Maximum ${rm}`,
      );
    }
  }

  #checkProperties(p: MP): void {
    for (const [name, value] of Object.entries(p.properties ?? {})) {
      if (Array.isArray(value) && !MULTI.has(name)) {
        this.violate("MQTT-2.2.2 properties", `${p.cmd} repeats property ${name}`);
      }
      if ((name === "receiveMaximum" || name === "maximumPacketSize") && value === 0) {
        this.violate("MQTT-3.1.2 properties", `${p.cmd} ${name} is 0`);
      }
    }
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
