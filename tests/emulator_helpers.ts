/**
 * Test helpers for the emulator tests: an `npm:mqtt` client wrapper that
 * records messages and packets, and a raw-socket client speaking through
 * `npm:mqtt-packet` (both independent of the project's codec).
 *
 * @module
 */

import mqtt from "mqtt";
import type { IClientOptions, MqttClient } from "mqtt";
import mqttPacket from "mqtt-packet";
import { Buffer } from "node:buffer";

/** A message received by a {@linkcode TestClient}. */
export interface Received {
  topic: string;
  payload: string;
  qos: number;
  messageId: number | undefined;
}

// deno-lint-ignore no-explicit-any
export type AnyPacket = any;

/** An mqtt.js client that records what it receives. */
export interface TestClient {
  client: MqttClient;
  messages: Received[];
  packets: AnyPacket[];
  /** The next (or an already received, unconsumed) message matching `topic`. */
  message(topic?: string | ((m: Received) => boolean), timeout?: number): Promise<Received>;
  /** The next received packet of a command (e.g. "puback", "disconnect"). */
  packet(cmd: string, timeout?: number): Promise<AnyPacket>;
  /** Resolves when the connection is closed. */
  closed: Promise<void>;
  /** Ends the client (forcibly, no reconnects). */
  end(): Promise<void>;
}

function timeoutError(what: string): Error {
  return new Error(`Timed out waiting for ${what}`);
}

/**
 * Connects an mqtt.js client (no reconnects) and records messages/packets.
 * Rejects with the mqtt.js error when the connection is refused.
 */
export async function connectClient(
  port: number,
  options: IClientOptions = {},
): Promise<TestClient> {
  const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    keepalive: 0,
    ...options,
  });
  const messages: Received[] = [];
  const packets: AnyPacket[] = [];
  const waiters = new Set<() => void>();
  const wake = () => {
    for (const w of [...waiters]) w();
  };
  let closedResolve!: () => void;
  const closed = new Promise<void>((r) => closedResolve = r);
  client.on("message", (topic, payload, packet) => {
    messages.push({
      topic,
      payload: payload.toString(),
      qos: packet.qos,
      messageId: packet.messageId,
    });
    wake();
  });
  client.on("packetreceive", (p) => {
    packets.push(p);
    wake();
  });
  client.on("close", () => {
    closedResolve();
    wake();
  });
  client.on("error", () => {});
  const waitFor = <T>(find: () => T | undefined, what: string, timeout: number): Promise<T> => {
    const found = find();
    if (found !== undefined) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const v = find();
        if (v === undefined) return;
        cleanup();
        resolve(v);
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(timeoutError(what));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
    });
  };
  let packetCursor = 0;
  const test: TestClient = {
    client,
    messages,
    packets,
    closed,
    message(topic, timeout = 5000) {
      const match = typeof topic === "function"
        ? topic
        : (m: Received) => topic === undefined || m.topic === topic;
      return waitFor(
        () => {
          const i = messages.findIndex(match);
          return i < 0 ? undefined : messages.splice(i, 1)[0];
        },
        `message ${String(topic)}`,
        timeout,
      );
    },
    packet(cmd, timeout = 5000) {
      return waitFor(
        () => {
          for (let i = packetCursor; i < packets.length; i++) {
            if (packets[i].cmd === cmd) {
              packetCursor = i + 1;
              return packets[i];
            }
          }
          return undefined;
        },
        `packet ${cmd}`,
        timeout,
      );
    },
    end: async () => {
      await client.endAsync(true);
    },
  };
  await new Promise<void>((resolve, reject) => {
    client.once("connect", () => resolve());
    client.once("error", (e) => {
      client.end(true);
      reject(e);
    });
    client.once("close", () => reject(new Error("closed before CONNACK")));
  });
  return test;
}

/** A raw TCP client that writes and parses packets with `npm:mqtt-packet`. */
export class RawClient {
  readonly conn: Deno.Conn;
  readonly packets: AnyPacket[] = [];
  /** Every byte received, in order. */
  received: number[] = [];
  readonly done: Promise<void>;
  #parser: AnyPacket;
  #waiters = new Set<() => void>();
  #closed = false;
  #cursor = 0;
  protocolVersion: 4 | 5;

  private constructor(conn: Deno.Conn, protocolVersion: 4 | 5) {
    this.conn = conn;
    this.protocolVersion = protocolVersion;
    this.#parser = mqttPacket.parser({ protocolVersion });
    this.#parser.on("packet", (p: AnyPacket) => {
      this.packets.push(p);
      this.#wake();
    });
    this.#parser.on("error", () => {});
    this.done = this.#read();
  }

  /** Opens a TCP connection to the emulator. */
  static async open(port: number, protocolVersion: 4 | 5 = 4): Promise<RawClient> {
    return new RawClient(await Deno.connect({ hostname: "127.0.0.1", port }), protocolVersion);
  }

  /** Whether the server closed the connection. */
  get closed(): boolean {
    return this.#closed;
  }

  #wake() {
    for (const w of [...this.#waiters]) w();
  }

  async #read(): Promise<void> {
    const buf = new Uint8Array(65536);
    try {
      for (;;) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        this.received.push(...buf.subarray(0, n));
        this.#parser.parse(Buffer.from(buf.slice(0, n)));
      }
    } catch {
      // closed
    }
    this.#closed = true;
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    this.#wake();
  }

  /** Sends a packet object (mqtt-packet format) at this client's protocol level. */
  async send(packet: AnyPacket): Promise<void> {
    await this.write(mqttPacket.generate(packet, { protocolVersion: this.protocolVersion }));
  }

  /** Writes raw bytes. */
  async write(bytes: Uint8Array): Promise<void> {
    let offset = 0;
    while (offset < bytes.length) offset += await this.conn.write(bytes.subarray(offset));
  }

  /** The next packet (in arrival order); rejects if the connection closes first. */
  next(timeout = 5000): Promise<AnyPacket> {
    return this.#wait(() => {
      if (this.#cursor < this.packets.length) return this.packets[this.#cursor++];
      if (this.#closed) throw new Error("Connection closed");
      return undefined;
    }, timeout);
  }

  /** Resolves when the server has closed the connection. */
  waitClosed(timeout = 5000): Promise<true> {
    return this.#wait(() => this.#closed ? true : undefined, timeout);
  }

  #wait<T>(find: () => T | undefined, timeout: number): Promise<T> {
    return new Promise((resolve, reject) => {
      const check = () => {
        try {
          const v = find();
          if (v === undefined) return;
          cleanup();
          resolve(v);
        } catch (e) {
          cleanup();
          reject(e);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(timeoutError("raw packet"));
      }, timeout);
      const cleanup = () => {
        clearTimeout(timer);
        this.#waiters.delete(check);
      };
      this.#waiters.add(check);
      check();
    });
  }

  /** Connects with CONNECT and returns the CONNACK. */
  async connect(fields: AnyPacket = {}): Promise<AnyPacket> {
    await this.send({
      cmd: "connect",
      protocolId: "MQTT",
      protocolVersion: this.protocolVersion,
      clean: true,
      clientId: "raw",
      keepalive: 0,
      ...fields,
    });
    return await this.next();
  }

  /** Closes the socket and waits for the read loop. */
  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch {
      // already closed
    }
    await this.done;
  }
}

/** Encodes a string as UTF-8 bytes. */
export const utf8 = (s: string): Uint8Array => new TextEncoder().encode(s);
