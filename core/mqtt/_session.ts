/**
 * The session engine of {@linkcode MqttClient}. Private to `core/mqtt`.
 *
 * @module
 */

import { MqttDecodeError, tsCodec } from "../codec/mod.ts";
import type {
  Codec,
  ConnackPacket,
  Packet,
  PublishPacket,
  SubscribePacket,
  Subscription,
  UnsubscribePacket,
} from "../codec/types.ts";
import { Backoff } from "./backoff.ts";
import { type Clock, realClock, type TimerHandle } from "./clock.ts";
import { asError, type Connection } from "./_connection.ts";
import { ConnectionClosedError, PayloadTooLargeError, ProtocolViolationError } from "./errors.ts";
import { abortError } from "./_dom_errors.ts";
import type { MqttClientEventMap } from "./events.ts";
import { closeAfter, handshake, type SessionHooks } from "./_handshake.ts";
import type { HandlerContext } from "./handlers/_context.ts";
import { handleAck } from "./handlers/ack.ts";
import { handleDisconnect } from "./handlers/disconnect.ts";
import { handlePublish } from "./handlers/publish.ts";
import { handleSubscriptionAck } from "./handlers/subscribe.ts";
import type { PublishResult } from "./inflight.ts";
import { KeepaliveManager } from "./keepalive.ts";
import type {
  ClientState,
  ConnectOptions,
  DisconnectOptions,
  Logger,
  MqttClientOptions,
  PublishOptions,
} from "./options.ts";
import {
  buildPublish,
  checkSubscriptions,
  checkTopicFilters,
  type ResolvedOptions,
  resolveOptions,
} from "./_validate.ts";
import { Outbox } from "./_outbox.ts";
import { connectTransport, type TransportFactory } from "./transport.ts";

/** Largest packet MQTT can carry: 1 + 4 + 268,435,455. */
const MAX_PACKET = 268_435_460;
/** Milliseconds a connection must last before the reconnect backoff starts again from its initial delay. */
const STABLE_CONNECTION = 30_000;
const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Emits a client event. */
export type Emit = <K extends keyof MqttClientEventMap>(
  type: K,
  detail: MqttClientEventMap[K]["detail"],
) => void;

/**
 * The engine behind {@linkcode MqttClient}: lifecycle state machine
 * (connect, reconnect, close), packet dispatch and the outbox. The public
 * class is a documented facade over it.
 */
export class Session {
  #emit: Emit;
  #o: ResolvedOptions;
  #signal: AbortSignal | undefined;
  #transport: TransportFactory;
  #clock: Clock;
  #codec: Codec;
  #logger: Logger;

  #state: ClientState = "disconnected";
  #version: 4 | 5;
  #lastError: Error | undefined;
  #connack: ConnackPacket | undefined;
  #serverMaxPacket = MAX_PACKET;
  #connectedAt = 0;
  #serverMaxQos: 0 | 1 = 1;
  #retainAvailable = true;
  #stopped = true;
  #attemptAbort: AbortController | undefined;
  #connecting: Promise<ConnackPacket> | undefined;
  #closing: Promise<void> | undefined;
  #reconnectTimer: TimerHandle | undefined;

  #out: Outbox;
  #keepalive: KeepaliveManager;
  #backoff: Backoff;
  #ctx: HandlerContext;
  #hooks: SessionHooks;

  /**
   * Creates a client (nothing is connected until {@linkcode connect}).
   *
   * @param options Server, credentials and behaviour.
   * @throws {TypeError | RangeError} For invalid options.
   */
  constructor(options: MqttClientOptions, emit: Emit) {
    this.#emit = emit;
    const o = resolveOptions(options);
    this.#o = o;
    this.#transport = options.transport ?? connectTransport;
    this.#clock = options.clock ?? realClock;
    this.#codec = options.codec ?? tsCodec;
    this.#logger = options.logger ?? SILENT;
    this.#version = o.protocolVersion;
    this.#out = new Outbox(
      o.maxInflight,
      options.queue,
      (e) => this.#reportError(e),
      (p) =>
        this.#codec.encodedLength(p.qos && !p.packetId ? { ...p, packetId: 1 } : p, {
          protocolVersion: this.#version,
        }),
      this.#clock,
    );
    this.#out.maxPacketSize = o.maxPacketSize;
    this.#backoff = new Backoff(o.reconnect ?? {}, options.random);
    this.#keepalive = new KeepaliveManager(this.#clock, o.connect.keepalive, {
      sendPing: () => this.#out.conn?.send({ type: "pingreq" }),
      onTimeout: () =>
        this.#lost(
          new ConnectionClosedError(
            `Connection lost: nothing from the server for 1.5 x keepalive (${
              this.#keepalive.intervalMs * 1.5 / 1000
            } s), PINGREQ unanswered`,
          ),
        ),
    });
    const version = () => this.#version;
    this.#ctx = {
      get protocolVersion() {
        return version();
      },
      inflight: this.#out.inflight,
      subscriptions: this.#out.subs,
      inboundQos2: new Set<number>(),
      logger: this.#logger,
      send: (p) => this.#out.conn?.send(p),
      deliver: (p) => this.#emit("message", p),
      reportError: (e) => this.#reportError(e),
      settled: () => this.#out.pump(),
      fail: (e, code) => this.#lost(e, code),
      violation: (e) => this.#violation(e),
    };
    this.#hooks = {
      onPackets: (packets, c) => {
        if (c !== this.#out.conn) return;
        this.#keepalive.markReceived();
        for (const p of packets) {
          this.#onPacket(p);
          if (c !== this.#out.conn) return;
        }
        this.#out.received();
      },
      onEnd: (error, c) => {
        if (c !== this.#out.conn) return;
        if (error instanceof MqttDecodeError) this.#reportError(error);
        this.#lost(
          error instanceof ConnectionClosedError || error instanceof MqttDecodeError
            ? error
            : new ConnectionClosedError(`Connection lost: ${error.message}`, undefined, {
              cause: error,
            }),
        );
      },
      onWritten: (c) => {
        if (c !== this.#out.conn) return;
        this.#keepalive.markSent();
        this.#out.pump();
      },
      onMalformed: (error, c) => {
        if (c !== this.#out.conn) return c.close(error);
        this.#reportError(error);
        this.#lost(error, undefined, 0x81); // DISCONNECT 0x81 Malformed Packet [MQTT-4.13.1-1]
      },
    };
    this.#signal = options.signal;
    options.signal?.addEventListener("abort", () => {
      this.#shutdown(abortError("Cannot complete: the client was aborted", options.signal));
    }, { once: true });
  }

  /** Current lifecycle state. */
  get state(): ClientState {
    return this.#state;
  }

  /** `true` while a session is open (state `"connected"` or `"closing"`). */
  get connected(): boolean {
    return this.#out.conn !== undefined &&
      (this.#state === "connected" || this.#state === "closing");
  }

  /** Negotiated protocol level (the requested one before the first connection). */
  get protocolVersion(): 4 | 5 {
    return this.#version;
  }

  /** The error that ended the last connection or connection attempt. */
  get lastError(): Error | undefined {
    return this.#lastError;
  }

  /** Largest packet the client may send: the server's Maximum Packet Size or `maxPacketSize`, whichever is smaller. */
  get maxPacketSize(): number {
    return Math.min(this.#serverMaxPacket, this.#o.maxPacketSize);
  }

  /** Messages accepted and not yet acknowledged (QoS 1) or written (QoS 0): queued plus in flight. */
  get pendingCount(): number {
    return this.#out.pendingCount;
  }

  connect(options: ConnectOptions = {}): Promise<ConnackPacket> {
    if (this.#signal?.aborted) {
      return Promise.reject(abortError("Cannot connect: the client was aborted", this.#signal));
    }
    if (this.#state === "connected" && this.#connack) return Promise.resolve(this.#connack);
    if (this.#connecting) return this.#connecting;
    if (this.#state === "closing") {
      return Promise.reject(
        new ConnectionClosedError("Cannot connect: the client is disconnecting"),
      );
    }
    this.#clearReconnectTimer();
    this.#attemptAbort?.abort(); // a reconnect attempt in progress gives way to this one
    this.#stopped = false;
    this.#setState("connecting");
    const attempt = this.#attempt(options.timeout ?? this.#o.connectTimeout, options.signal);
    this.#connecting = attempt.then(
      (connack) => connack,
      (error: Error) => {
        if (this.#state === "connecting") {
          this.#stopped = true;
          this.#setState("disconnected");
        }
        throw error;
      },
    ).finally(() => this.#connecting = undefined);
    return this.#connecting;
  }

  flush(options: DisconnectOptions = {}): Promise<void> {
    return this.#out.whenFlushed(this.#clock, options.timeout ?? this.#o.connectTimeout);
  }

  disconnect(options: DisconnectOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout ?? this.#o.connectTimeout).finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  publish(topic: string, payload: Uint8Array, options?: PublishOptions): Promise<PublishResult> {
    try {
      return this.#out.publish(this.#prepare(topic, payload, options), options?.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  publishNoWait(topic: string, payload: Uint8Array, options?: PublishOptions): void {
    this.#out.submit(this.#prepare(topic, payload, options));
  }

  subscribe(
    subscriptions: Subscription[],
    options: { signal?: AbortSignal } = {},
  ): Promise<number[]> {
    try {
      const subs = checkSubscriptions(subscriptions);
      this.#checkSize({ type: "subscribe", packetId: 1, subscriptions: subs });
      return this.#out.subscribe(subs, options.signal);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  unsubscribe(topicFilters: string[]): Promise<void> {
    try {
      const filters = checkTopicFilters(topicFilters);
      this.#checkSize({ type: "unsubscribe", packetId: 1, topicFilters: filters });
      return this.#out.unsubscribe(filters);
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // ---- internals -------------------------------------------------------

  /** Refuses a SUBSCRIBE/UNSUBSCRIBE larger than the server accepts [MQTT-3.2.2-15]. */
  #checkSize(packet: SubscribePacket | UnsubscribePacket): void {
    const size = this.#codec.encodedLength(packet, { protocolVersion: this.#version });
    if (size > this.maxPacketSize) {
      throw new PayloadTooLargeError(size, this.maxPacketSize, packet.type.toUpperCase());
    }
  }

  #prepare(topic: string, payload: Uint8Array, options: PublishOptions | undefined): PublishPacket {
    if (this.#state === "closing") {
      throw new ConnectionClosedError("Cannot publish: the client is disconnecting");
    }
    if (this.#signal?.aborted) {
      throw abortError("Cannot publish: the client was aborted", this.#signal);
    }
    if (options?.retain && !this.#retainAvailable) {
      throw new RangeError(
        "Cannot publish with retain: the server does not support retained messages",
      );
    }
    return buildPublish(
      this.#codec,
      topic,
      payload,
      options,
      this.maxPacketSize,
      this.#version,
      this.#serverMaxQos,
    );
  }

  #onPacket(p: Packet): void {
    switch (p.type) {
      case "publish":
        return handlePublish(this.#ctx, p);
      case "puback":
      case "pubrec":
      case "pubrel":
      case "pubcomp":
        return handleAck(this.#ctx, p);
      case "suback":
      case "unsuback":
        return handleSubscriptionAck(this.#ctx, p);
      case "pingresp":
        return; // any packet already counted as a sign of life
      case "disconnect":
        return handleDisconnect(this.#ctx, p);
      default:
        // CONNECT, SUBSCRIBE, UNSUBSCRIBE, PINGREQ, a second CONNACK [MQTT-3.2.0-2], and AUTH
        // (this client sends no Authentication Method) are never allowed from a server.
        return this.#violation(
          new ProtocolViolationError(`Unexpected ${p.type.toUpperCase()} from the server`),
        );
    }
  }

  /** One connection attempt (with fallback); used by connect() and by reconnects. */
  async #attempt(timeout: number, signal?: AbortSignal): Promise<ConnackPacket> {
    const ac = new AbortController();
    this.#attemptAbort = ac;
    const onAbort = () => ac.abort(signal?.reason);
    signal?.addEventListener("abort", onAbort, { once: true });
    if (signal?.aborted) onAbort();
    try {
      return await handshake({
        transport: this.#transport,
        host: this.#o.host,
        port: this.#o.port,
        tls: this.#o.tls,
        codec: this.#codec,
        clock: this.#clock,
        logger: this.#logger,
        connect: this.#o.connect,
        protocolVersion: this.#version,
        fallback: this.#o.fallback && this.#o.protocolVersion === 5,
        timeout,
        signal: ac.signal,
        maxIncoming: MAX_PACKET,
        hooks: this.#hooks,
        onAccepted: (c, connack, version) => this.#onAccepted(c, connack, version),
      });
    } catch (e) {
      this.#lastError = asError(e);
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (this.#attemptAbort === ac) this.#attemptAbort = undefined;
    }
  }

  #onAccepted(conn: Connection, connack: ConnackPacket, version: 4 | 5): void {
    this.#out.conn = conn;
    this.#connack = connack;
    this.#version = version;
    const props = connack.properties;
    this.#serverMaxPacket = props?.maximumPacketSize ?? MAX_PACKET;
    this.#serverMaxQos = props?.maximumQoS ?? 1;
    this.#retainAvailable = props?.retainAvailable ?? true;
    this.#out.maxPacketSize = this.maxPacketSize;
    this.#out.maxQos = this.#serverMaxQos;
    this.#out.retainAvailable = this.#retainAvailable;
    this.#connectedAt = this.#clock.now();
    this.#setState("connected");
    this.#logger.info("Connected", {
      host: this.#o.host,
      port: this.#o.port,
      protocolVersion: version,
    });
    this.#keepalive.start(props?.serverKeepAlive ?? this.#o.connect.keepalive);
    this.#out.resume(conn, Math.min(this.#out.inflight.capacity, props?.receiveMaximum ?? 65535));
    this.#emit("connect", connack);
  }

  /**
   * The server broke the protocol: report it, tell the server why (MQTT 5
   * DISCONNECT with the error's reason code), close and reconnect [MQTT-4.13.1-1].
   */
  #violation(error: ProtocolViolationError): void {
    this.#reportError(error);
    this.#lost(error, undefined, error.reasonCode);
  }

  /**
   * The current connection ended by itself (or must be ended); on MQTT 5, a
   * `disconnect` reason code is sent as the last packet before closing.
   */
  #lost(error: Error, reasonCode?: number, disconnect?: number): void {
    const conn = this.#out.conn;
    if (!conn) return;
    this.#out.detach(); // from here on nothing but the DISCONNECT reaches this connection
    // Only a connection that stayed up resets the backoff: a server that accepts and then kicks the
    // client at once (e.g. 0x8E session taken over by a twin with the same credentials) gets ever
    // longer pauses instead of a reconnect storm.
    if (this.#clock.now() - this.#connectedAt >= STABLE_CONNECTION) this.#backoff.reset();
    this.#keepalive.stop();
    this.#ctx.inboundQos2.clear();
    if (disconnect !== undefined && this.#version === 5) {
      closeAfter(conn, { type: "disconnect", reasonCode: disconnect }, error, this.#clock);
    } else {
      conn.close(error);
    }
    this.#lastError = error;
    this.#logger.warn("Connection lost", { reason: error.message });
    if (reasonCode === 0x8e) {
      this.#logger.warn(
        "Another client with the same credentials or client id took over the session",
      );
    }
    this.#emit(
      "disconnect",
      reasonCode === undefined ? { reason: error } : { reason: error, reasonCode },
    );
    if (this.#stopped || this.#state === "closing") return this.#out.wake(); // disconnect() finishes the job
    if (!this.#o.reconnect) {
      this.#stopped = true;
      this.#setState("disconnected");
      this.#out.failAll(
        new ConnectionClosedError(`Cannot complete: ${error.message}`, reasonCode, {
          cause: error,
        }),
      );
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const delay = this.#backoff.next();
    this.#setState("reconnecting");
    this.#emit("reconnecting", { attempt: this.#backoff.attempt, delay });
    this.#reconnectTimer = this.#clock.setTimeout(() => {
      this.#reconnectTimer = undefined;
      this.#attempt(this.#o.connectTimeout).catch((e: Error) => {
        if (this.#stopped || this.#state !== "reconnecting") return;
        this.#reportError(e);
        this.#scheduleReconnect();
      });
    }, delay);
  }

  #clearReconnectTimer(): void {
    if (this.#reconnectTimer !== undefined) this.#clock.clearTimeout(this.#reconnectTimer);
    this.#reconnectTimer = undefined;
  }

  async #close(timeout: number): Promise<void> {
    this.#stopped = true;
    this.#clearReconnectTimer();
    this.#attemptAbort?.abort(new ConnectionClosedError("Cannot connect: disconnect() was called"));
    const conn = this.#out.conn;
    const error = new ConnectionClosedError("Cannot complete: the client disconnected first");
    // Announce the end unless the connection already ended by itself (and said so) meanwhile.
    let announce = conn !== undefined;
    if (conn && this.#state === "connected") {
      this.#setState("closing");
      await this.flush({ timeout }).catch(() => {});
      announce = this.#out.conn === conn;
      if (announce && !conn.closed) {
        // Nothing may follow the DISCONNECT [MQTT-3.14.4-1]: no PUBACK for a late PUBLISH, no
        // queued message released by a late PUBACK, no PINGREQ; then close [MQTT-3.14.4-2].
        this.#out.stopNudging();
        this.#keepalive.stop();
        this.#out.detach();
        const disconnect = this.#version === 5 ? { reasonCode: 0 } : {};
        await closeAfter(conn, { type: "disconnect", ...disconnect }, error, this.#clock);
      }
    }
    this.#shutdown(error, announce);
  }

  /** Closes everything now and fails whatever is pending. */
  #shutdown(error: Error, announce = this.#out.conn !== undefined): void {
    this.#stopped = true;
    this.#clearReconnectTimer();
    this.#attemptAbort?.abort(error);
    this.#keepalive.stop();
    const conn = this.#out.conn;
    this.#out.detach();
    conn?.close(error);
    this.#out.failAll(error);
    this.#setState("disconnected");
    if (announce) {
      this.#emit("disconnect", { reason: undefined });
    }
  }

  #reportError(error: Error): void {
    this.#logger.error(error.message, { name: error.name });
    this.#emit("error", error);
  }

  #setState(state: ClientState): void {
    this.#state = state;
    this.#out.accepting = state === "connected";
  }
}
