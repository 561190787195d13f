/**
 * One network connection: the read loop (large chunks into the streaming
 * decoder) and the coalescing writer (packets encoded into a reusable
 * buffer, one `write` per batch). Private to the client.
 *
 * @module
 */

import type { Codec, EncodeOptions, Packet, PacketDecoder } from "../codec/types.ts";
import { MqttDecodeError } from "../codec/errors.ts";
import type { Reject, Resolve } from "./inflight.ts";
import type { Transport } from "./transport.ts";
import { publishSizeBound } from "./_validate.ts";

const READ_SIZE = 64 * 1024;
const INITIAL_WRITE_SIZE = 16 * 1024;
const QOS0_RESULT = Object.freeze({ packetId: 0, reasonCode: 0 });

/** Callbacks of a {@linkcode Connection}. */
export interface ConnectionHooks {
  /** Called with each chunk's packets, in order. */
  onPackets(packets: Packet[], connection: Connection): void;
  /** Called once when the connection ends by itself (not after `close()`). */
  onEnd(error: Error, connection: Connection): void;
  /** Called after each completed write. */
  onWritten(connection: Connection): void;
  /**
   * Called instead of `onEnd` when the server's bytes cannot be decoded.
   * Reading stops but the connection stays open, so that a last packet (the
   * MQTT 5 DISCONNECT 0x81 Malformed Packet [MQTT-4.13.1-1]) can be sent;
   * the hook must close the connection.
   */
  onMalformed?(error: MqttDecodeError, connection: Connection): void;
  /**
   * Looks at the first bytes before decoding; returning `true` consumes them
   * (used to spot a 3.1.1 CONNACK answering an MQTT 5 CONNECT).
   */
  inspectFirstChunk?(chunk: Uint8Array, connection: Connection): boolean;
}

/**
 * A connected transport with its decoder and write buffers.
 */
export class Connection {
  readonly transport: Transport;
  #codec: Codec;
  #decoder: PacketDecoder;
  #hooks: ConnectionHooks;
  #encodeOptions: EncodeOptions;
  #buf = new Uint8Array(INITIAL_WRITE_SIZE);
  #spare = new Uint8Array(INITIAL_WRITE_SIZE);
  #len = 0;
  #resolves: Resolve[] = [];
  #rejects: Reject[] = [];
  #writing = false;
  #scheduled = false;
  #closed = false;
  #idleWaiters: (() => void)[] = [];
  #firstChunk = true;
  #writes = 0;

  constructor(
    transport: Transport,
    codec: Codec,
    protocolVersion: 4 | 5,
    maxIncoming: number,
    hooks: ConnectionHooks,
  ) {
    this.transport = transport;
    this.#codec = codec;
    this.#decoder = codec.createDecoder({ protocolVersion, maxPacketSize: maxIncoming });
    this.#hooks = hooks;
    this.#encodeOptions = { protocolVersion };
  }

  /** `true` after `close()` or the end of the stream. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Bytes encoded and not yet handed to the transport, plus the write in progress. */
  get bufferedBytes(): number {
    return this.#len + (this.#writing ? 1 : 0);
  }

  /** Writes started so far (a change shows that something was sent meanwhile). */
  get writes(): number {
    return this.#writes;
  }

  /** `true` when nothing waits to be written. */
  get idle(): boolean {
    return this.#len === 0 && !this.#writing;
  }

  /** Starts the read loop. */
  start(): void {
    this.#readLoop();
  }

  /**
   * Encodes a packet into the write buffer; the batch is written at the end
   * of the current task.
   *
   * @param packet Packet to send.
   * @param resolve Called (with a QoS 0 result) once the bytes are written.
   * @param reject Called if the connection ends first.
   * @throws {TypeError | RangeError} From the codec for invalid packets (nothing is buffered).
   */
  send(packet: Packet, resolve?: Resolve, reject?: Reject): void {
    if (this.#closed) {
      reject?.(new Error("Cannot send: the connection is closed"));
      return;
    }
    const bound = packet.type === "publish" && packet.properties === undefined
      ? publishSizeBound(packet)
      : this.#codec.encodedLength(packet, this.#encodeOptions);
    if (this.#len + bound > this.#buf.length) this.#grow(this.#len + bound);
    this.#len += this.#codec.encodeInto(packet, this.#buf, this.#len, this.#encodeOptions);
    if (resolve && reject) {
      this.#resolves.push(resolve);
      this.#rejects.push(reject);
    }
    if (!this.#scheduled && !this.#writing) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  #grow(needed: number): void {
    let size = this.#buf.length * 2;
    while (size < needed) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  #flush = async (): Promise<void> => {
    this.#scheduled = false;
    while (this.#len > 0 && !this.#closed) {
      const data = this.#buf.subarray(0, this.#len);
      const resolves = this.#resolves;
      const rejects = this.#rejects;
      const spare = this.#spare;
      this.#spare = this.#buf;
      this.#buf = spare;
      this.#len = 0;
      if (resolves.length > 0) {
        this.#resolves = [];
        this.#rejects = [];
      }
      this.#writing = true;
      this.#writes++;
      try {
        let off = 0;
        while (off < data.length) off += await this.transport.write(data.subarray(off));
      } catch (e) {
        this.#writing = false;
        for (const r of rejects) r(asError(e));
        this.#end(asError(e));
        return;
      }
      this.#writing = false;
      for (const r of resolves) r(QOS0_RESULT);
      this.#hooks.onWritten(this);
    }
    if (this.#len === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const w of waiters) w();
    }
  };

  /**
   * Waits until everything buffered is written (or the connection ends).
   *
   * @returns A promise that settles when idle.
   */
  drained(): Promise<void> {
    if (this.idle || this.#closed) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Changes the protocol level of the decoder and encoder.
   *
   * @param version The level.
   */
  setProtocolVersion(version: 4 | 5): void {
    this.#decoder.protocolVersion = version;
    this.#encodeOptions = { protocolVersion: version };
  }

  async #readLoop(): Promise<void> {
    let buf = new Uint8Array(READ_SIZE);
    try {
      while (!this.#closed) {
        const n = await this.transport.read(buf);
        if (this.#closed) return;
        if (n === null) {
          this.#end(new Error("Connection closed by the server"));
          return;
        }
        if (n === 0) continue;
        const chunk = buf.subarray(0, n);
        if (this.#firstChunk) {
          this.#firstChunk = false;
          if (this.#hooks.inspectFirstChunk?.(chunk, this)) continue;
        }
        let packets: Packet[];
        try {
          packets = this.#decoder.push(chunk);
        } catch (e) {
          // Act on what came before the fault: ThingsBoard follows a CONNACK
          // refusal (0x86) with a DISCONNECT carrying a CONNACK-only code.
          if (e instanceof MqttDecodeError && e.packets.length > 0) {
            this.#hooks.onPackets(e.packets, this);
          }
          throw e;
        }
        // Binary fields (payloads, correlation and authentication data, passwords) and held-back
        // bytes may alias the chunk: only reuse the buffer when nothing does.
        if (this.#decoder.bufferedBytes > 0 || packets.some(mayAlias)) {
          buf = new Uint8Array(READ_SIZE);
        }
        if (packets.length > 0) this.#hooks.onPackets(packets, this);
      }
    } catch (e) {
      if (this.#closed) return;
      if (e instanceof MqttDecodeError && this.#hooks.onMalformed) {
        return this.#hooks.onMalformed(e, this);
      }
      this.#end(asError(e));
    }
  }

  #end(error: Error): void {
    if (this.#closed) return;
    this.close(error);
    this.#hooks.onEnd(error, this);
  }

  /**
   * Closes the transport; unwritten bytes are dropped and awaited QoS 0
   * writes fail with `error`.
   *
   * @param error Rejection reason for unwritten awaited messages.
   */
  close(error: Error = new Error("Connection closed")): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#len = 0;
    const rejects = this.#rejects;
    this.#resolves = [];
    this.#rejects = [];
    for (const r of rejects) r(error);
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const w of waiters) w();
    try {
      this.transport.close();
    } catch {
      // already closed
    }
  }
}

/** Whether a decoded packet can hold views of the chunk it came from. */
function mayAlias(p: Packet): boolean {
  return p.type === "publish" || p.type === "connack" || p.type === "auth" || p.type === "connect";
}

/** `e` if it is an `Error`, else an `Error` describing it. */
export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
