/**
 * Shared setup of the emulator fidelity suite (`emulator_fidelity_*_test.ts`): checks the
 * emulator against ThingsBoard's server behaviour as described in
 * /work/shared/docs/thingsboard-reference.md §1, independently of the emulator's own tests.
 *
 * Two kinds of clients drive the emulator over real TCP:
 * - {@linkcode Raw}: a socket that writes packets built by mqtt-packet's `generate` and parses
 *   what comes back with mqtt-packet's parser, for exact checks of reason codes, QoS, packet
 *   order and connection closes (and packets MQTT.js cannot produce);
 * - MQTT.js clients ({@linkcode jsConnect}) for what a real device library sees.
 *
 * @module
 */

import mqtt from "mqtt";
import type { IClientOptions, MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { Buffer } from "node:buffer";
import assert from "node:assert/strict";
import { startEmulator } from "../emulator/mod.ts";
import type { Device, Emulator, EmulatorOptions } from "../emulator/mod.ts";

/** MQTT protocol level under test: 4 = 3.1.1, 5 = 5.0. */
export type Level = 4 | 5;
/** Both protocol levels, for table-driven tests. */
export const LEVELS: readonly Level[] = [4, 5];
/** Human name of a protocol level. */
export const mqttName = (v: Level | 3): string =>
  v === 5 ? "MQTT 5" : v === 4 ? "MQTT 3.1.1" : "MQTT 3.1";

/** A packet as mqtt-packet parses or generates it (loosely typed on purpose). */
// deno-lint-ignore no-explicit-any
export type Pkt = Record<string, any>;

/** Starts an emulator with quick timeouts unless overridden. */
export function emulator(options: EmulatorOptions = {}): Promise<Emulator> {
  return startEmulator(options);
}

const utf8 = new TextDecoder();

/** Thrown by {@linkcode Raw.next} when the server closed the connection first. */
export class ClosedError extends Error {
  constructor() {
    super("connection closed by the server");
  }
}

/** A raw MQTT client socket: mqtt-packet `generate` out, mqtt-packet parser in. */
export class Raw {
  readonly version: Level | 3;
  readonly #conn: Deno.TcpConn;
  readonly #parser: ReturnType<typeof mqttPacket.parser>;
  readonly #queue: Pkt[] = [];
  #wake: (() => void)[] = [];
  #closed = false;
  #nextId = 1;
  readonly #received: Uint8Array[] = [];
  /** Errors of the parser (a packet mqtt-packet could not read). */
  readonly parseErrors: Error[] = [];
  /** Resolves once the read loop ended (server closed, or {@linkcode Raw.close}). */
  readonly done: Promise<void>;

  private constructor(conn: Deno.TcpConn, version: Level | 3) {
    this.#conn = conn;
    this.version = version;
    this.#parser = mqttPacket.parser({ protocolVersion: version } as never);
    this.#parser.on("packet", (p: Pkt) => {
      this.#queue.push(p);
      this.#notify();
    });
    this.#parser.on("error", (e: Error) => this.parseErrors.push(e));
    this.done = this.#readLoop();
  }

  /** Opens a TCP connection to the emulator (no CONNECT sent yet). */
  static async open(tb: Emulator, version: Level | 3): Promise<Raw> {
    const conn = await Deno.connect({ hostname: "127.0.0.1", port: tb.port });
    return new Raw(conn, version);
  }

  #notify(): void {
    const wake = this.#wake;
    this.#wake = [];
    for (const w of wake) w();
  }

  async #readLoop(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.#conn.read(buf);
        if (n === null) break;
        this.#received.push(buf.slice(0, n));
        this.#parser.parse(Buffer.from(buf.slice(0, n)));
      }
    } catch {
      // reset by peer, or closed by us
    }
    this.#closed = true;
    try {
      this.#conn.close();
    } catch {
      // already closed
    }
    this.#notify();
  }

  /** Every byte received so far. */
  get received(): Uint8Array {
    const out = new Uint8Array(this.#received.reduce((n, c) => n + c.length, 0));
    let off = 0;
    for (const c of this.#received) {
      out.set(c, off);
      off += c.length;
    }
    return out;
  }

  /** Whether the server closed the connection (or we did). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let off = 0;
    while (off < bytes.length) off += await this.#conn.write(bytes.subarray(off));
  }

  /** Encodes `p` with mqtt-packet for this protocol level and writes it. */
  send(p: Pkt): Promise<void> {
    const bytes = mqttPacket.generate(p as never, { protocolVersion: this.version } as never);
    return this.write(new Uint8Array(bytes));
  }

  /**
   * The next received packet matching `match` (taken off the queue). Throws
   * {@linkcode ClosedError} if the connection closes first, or a timeout error.
   */
  async next(match: (p: Pkt) => boolean = () => true, timeout = 2000): Promise<Pkt> {
    const deadline = Date.now() + timeout;
    while (true) {
      const i = this.#queue.findIndex(match);
      if (i >= 0) return this.#queue.splice(i, 1)[0]!;
      if (this.#closed) throw new ClosedError();
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching packet within ${timeout} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#wake.push(resolve);
        timer = setTimeout(resolve, left);
      });
      clearTimeout(timer);
    }
  }

  /** The next packet of a command (`"puback"`, `"publish"`, ...). */
  nextOf(cmd: string, timeout = 2000): Promise<Pkt> {
    return this.next((p) => p.cmd === cmd, timeout);
  }

  /** The next PUBLISH on `topic`, with its payload as text in `text`. */
  async message(topic: string | RegExp, timeout = 2000): Promise<Pkt & { text: string }> {
    const p = await this.next(
      (p) =>
        p.cmd === "publish" &&
        (typeof topic === "string" ? p.topic === topic : topic.test(p.topic)),
      timeout,
    );
    return Object.assign(p, { text: utf8.decode(p.payload) });
  }

  /** Asserts that no packet matching `match` arrives within `ms`. */
  async nothing(match: (p: Pkt) => boolean, ms = 200): Promise<void> {
    let got: Pkt | undefined;
    try {
      got = await this.next(match, ms);
    } catch {
      return;
    }
    assert.fail(`unexpected packet ${JSON.stringify(got)}`);
  }

  /** Waits until the server closes the connection; returns whether it did within `ms`. */
  async closedWithin(ms = 2000): Promise<boolean> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const t = new Promise<false>((r) => timer = setTimeout(() => r(false), ms));
    const result = await Promise.race([this.done.then(() => true), t]);
    clearTimeout(timer);
    return result;
  }

  /** Packets received but not taken yet. */
  get pending(): readonly Pkt[] {
    return this.#queue;
  }

  /** Sends CONNECT and returns the CONNACK. */
  async connect(opts: {
    clientId?: string;
    username?: string;
    password?: string;
    clean?: boolean;
    keepalive?: number;
  } = {}): Promise<Pkt> {
    await this.send({
      cmd: "connect",
      protocolId: this.version === 3 ? "MQIsdp" : "MQTT",
      protocolVersion: this.version,
      clean: opts.clean ?? true,
      clientId: opts.clientId ?? "",
      keepalive: opts.keepalive ?? 0,
      ...(opts.username !== undefined ? { username: opts.username } : {}),
      ...(opts.password !== undefined ? { password: Buffer.from(opts.password) } : {}),
    });
    return await this.nextOf("connack");
  }

  /**
   * PUBLISHes and, for QoS > 0, returns the server's answer to it (PUBACK, or PUBREC if the
   * server ever sent one); throws {@linkcode ClosedError} if the server closed instead.
   */
  async publish(
    topic: string,
    payload: string | Uint8Array,
    qos: 0 | 1 | 2 = 1,
  ): Promise<Pkt | undefined> {
    const messageId = qos > 0 ? this.#nextId++ : undefined;
    await this.send({
      cmd: "publish",
      topic,
      payload: Buffer.from(payload),
      qos,
      retain: false,
      dup: false,
      ...(messageId !== undefined ? { messageId } : {}),
    });
    if (messageId === undefined) return undefined;
    return await this.next(
      (p) => ["puback", "pubrec"].includes(p.cmd) && p.messageId === messageId,
    );
  }

  /** SUBSCRIBEs and returns the SUBACK's granted codes, one per filter. */
  async subscribe(...subs: [string, number][]): Promise<number[]> {
    const messageId = this.#nextId++;
    await this.send({
      cmd: "subscribe",
      messageId,
      subscriptions: subs.map(([topic, qos]) => ({ topic, qos })),
    });
    const ack = await this.next((p) => p.cmd === "suback" && p.messageId === messageId);
    return ack.granted;
  }

  /** UNSUBSCRIBEs and returns the UNSUBACK. */
  async unsubscribe(...topics: string[]): Promise<Pkt> {
    const messageId = this.#nextId++;
    await this.send({ cmd: "unsubscribe", messageId, unsubscriptions: topics });
    return await this.next((p) => p.cmd === "unsuback" && p.messageId === messageId);
  }

  /** PINGREQ → PINGRESP round trip: proves the connection is alive and processed in order. */
  async ping(timeout = 2000): Promise<void> {
    await this.send({ cmd: "pingreq" });
    await this.nextOf("pingresp", timeout);
  }

  /** Closes the socket and waits for the read loop. */
  async close(): Promise<void> {
    if (!this.#closed) {
      try {
        this.#conn.close();
      } catch {
        // already closed
      }
    }
    await this.done;
  }

  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }
}

/** Opens a raw connection, CONNECTs and asserts the CONNACK accepted it. */
export async function rawSession(
  tb: Emulator,
  version: Level | 3,
  opts: Parameters<Raw["connect"]>[0],
): Promise<Raw> {
  const c = await Raw.open(tb, version);
  const ack = await c.connect(opts);
  if (ack.returnCode !== 0 && ack.reasonCode !== 0) {
    await c.close();
    assert.fail(`CONNECT refused: ${JSON.stringify(ack)}`);
  }
  return c;
}

let deviceCounter = 0;

/** Creates a token device and connects a raw client with that token. */
export async function rawDevice(
  tb: Emulator,
  version: Level | 3,
  spec: { gateway?: boolean } = {},
): Promise<{ c: Raw; device: Device }> {
  const device = tb.createDevice({ name: `dev-${++deviceCounter}`, ...spec });
  const c = await rawSession(tb, version, {
    clientId: `c-${deviceCounter}`,
    username: device.accessToken!,
  });
  return { c, device };
}

/** Parses a received payload as JSON. */
export function json(p: Pkt): unknown {
  return JSON.parse(utf8.decode(p.payload));
}

/** The reason code of a PUBACK as a v5 client sees it (absent = 0 Success). */
export function pubackCode(p: Pkt | undefined): number {
  assert.ok(p, "expected a PUBACK");
  assert.equal(p.cmd, "puback", `expected PUBACK, got ${p.cmd}`);
  return p.reasonCode ?? 0;
}

/** Connects an MQTT.js client (no reconnects); rejects with the CONNACK error. */
export function jsConnect(tb: Emulator, version: Level, opts: IClientOptions): Promise<MqttClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${tb.port}`, {
    protocolVersion: version,
    reconnectPeriod: 0,
    connectTimeout: 3000,
    keepalive: 0,
    ...opts,
  });
  return new Promise((resolve, reject) => {
    client.once("connect", () => {
      client.removeAllListeners("error");
      resolve(client);
    });
    client.once("error", (e) => {
      client.removeAllListeners("connect");
      client.end(true, () => reject(e));
    });
  });
}

/** Collects an MQTT.js client's messages for {@linkcode Inbox.next}. */
export class Inbox {
  readonly #messages: { topic: string; text: string; qos: number }[] = [];
  #wake: (() => void)[] = [];

  constructor(client: MqttClient) {
    client.on("message", (topic, payload, packet) => {
      this.#messages.push({ topic, text: payload.toString(), qos: packet.qos });
      const wake = this.#wake;
      this.#wake = [];
      for (const w of wake) w();
    });
  }

  /** The next message whose topic matches. */
  async next(
    topic: string | RegExp,
    timeout = 2000,
  ): Promise<{ topic: string; text: string; qos: number }> {
    const deadline = Date.now() + timeout;
    while (true) {
      const i = this.#messages.findIndex((m) =>
        typeof topic === "string" ? m.topic === topic : topic.test(m.topic)
      );
      if (i >= 0) return this.#messages.splice(i, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no message on ${topic} within ${timeout} ms`);
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((r) => {
        this.#wake.push(r);
        timer = setTimeout(r, left);
      });
      clearTimeout(timer);
    }
  }
}

/** Waits a little (lets the server process what was sent). */
export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
