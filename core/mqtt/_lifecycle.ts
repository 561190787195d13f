/**
 * The lifecycle of a client session: connect (with fallback), the accepted
 * connection, its loss, reconnect with backoff, and the orderly close.
 * Private to `core/mqtt`; {@linkcode Session} adds the requests on top.
 *
 * @module
 */

import { tsCodec } from "../codec/mod.ts";
import type { Codec, ConnackPacket } from "../codec/types.ts";
import { type Clock, realClock } from "./clock.ts";
import { asError, type Connection } from "./_connection.ts";
import { createDispatch, type Dispatch } from "./_dispatch.ts";
import { abortError } from "./_dom_errors.ts";
import { ConnectionClosedError } from "./errors.ts";
import type { MqttClientEventMap } from "./events.ts";
import { closeAfter, handshake } from "./_handshake.ts";
import type { KeepaliveManager } from "./keepalive.ts";
import { applyConnackLimits, inflightWindow, keepaliveFor, MAX_PACKET } from "./_limits.ts";
import type {
  ClientState,
  ConnectOptions,
  DisconnectOptions,
  Logger,
  MqttClientOptions,
} from "./options.ts";
import { Outbox } from "./_outbox.ts";
import { ReconnectTimer } from "./_reconnect.ts";
import { connectTransport, type TransportFactory } from "./transport.ts";
import { type ResolvedOptions, resolveOptions } from "./_validate.ts";

const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/** Emits a client event. */
export type Emit = <K extends keyof MqttClientEventMap>(
  type: K,
  detail: MqttClientEventMap[K]["detail"],
) => void;

/**
 * The lifecycle state machine of a session: `"disconnected"` →
 * `"connecting"` → `"connected"` ⇄ `"reconnecting"`, `"closing"` →
 * `"disconnected"`. Its protected fields are what requests need on their
 * fast path, read directly by the subclass.
 */
export class Lifecycle {
  /** Resolved options. */
  protected readonly o: ResolvedOptions;
  /** The client's `signal`: once aborted, the client is closed for good. */
  protected readonly signal: AbortSignal | undefined;
  /** Codec of every connection. */
  protected readonly codec: Codec;
  /** Queue, in-flight window, subscription requests and the current connection. */
  protected readonly out: Outbox;
  /** Current lifecycle state. */
  protected clientState: ClientState = "disconnected";
  /** Negotiated protocol level (the requested one before the first connection). */
  protected version: 4 | 5;
  /** The error that ended the last connection or connection attempt. */
  protected lastFailure: Error | undefined;

  #emit: Emit;
  #transport: TransportFactory;
  #clock: Clock;
  #logger: Logger;
  #connack: ConnackPacket | undefined;
  #stopped = true;
  #attemptAbort: AbortController | undefined;
  #connecting: Promise<ConnackPacket> | undefined;
  #closing: Promise<void> | undefined;
  #reconnect: ReconnectTimer;
  #keepalive: KeepaliveManager;
  #dispatch: Dispatch;
  /** Runs `onSessionStart`; what it throws is logged and fails nothing. */
  #sessionStart = (): void => {
    try {
      this.o.onSessionStart?.();
    } catch (error) {
      this.#logger.warn("onSessionStart threw", { error: (error as Error)?.message });
    }
  };

  /**
   * @param options Server, credentials and behaviour.
   * @param emit Dispatches client events.
   * @throws {TypeError | RangeError} For invalid options.
   */
  constructor(options: MqttClientOptions, emit: Emit) {
    this.#emit = emit;
    const o = resolveOptions(options);
    this.o = o;
    this.#transport = options.transport ?? connectTransport;
    this.#clock = options.clock ?? realClock;
    this.codec = options.codec ?? tsCodec;
    this.#logger = options.logger ?? SILENT;
    this.version = o.protocolVersion;
    this.out = new Outbox(
      o.maxInflight,
      options.queue,
      (e) => this.reportError(e),
      (p) => this.codec.encodedLength(p, { protocolVersion: this.version }),
      this.#clock,
    );
    this.out.maxPacketSize = o.maxPacketSize;
    this.#reconnect = new ReconnectTimer(o.reconnect ?? {}, options.random, this.#clock);
    this.#dispatch = createDispatch({
      out: this.out,
      clock: this.#clock,
      keepalive: o.connect.keepalive,
      logger: this.#logger,
      protocolVersion: () => this.version,
      deliver: (p) => this.#emit("message", p),
      reportError: (e) => this.reportError(e),
      lost: (error, reasonCode, disconnect) => this.#lost(error, reasonCode, disconnect),
    });
    this.#keepalive = this.#dispatch.keepalive;
    this.signal = options.signal;
    options.signal?.addEventListener("abort", () => {
      this.#shutdown(abortError("Cannot complete: the client was aborted", options.signal));
    }, { once: true });
  }

  connect(options: ConnectOptions = {}): Promise<ConnackPacket> {
    if (this.signal?.aborted) {
      return Promise.reject(abortError("Cannot connect: the client was aborted", this.signal));
    }
    if (this.clientState === "connected" && this.#connack) return Promise.resolve(this.#connack);
    if (this.#connecting) return this.#connecting;
    if (this.clientState === "closing") {
      return Promise.reject(
        new ConnectionClosedError("Cannot connect: the client is disconnecting"),
      );
    }
    this.#reconnect.cancel();
    this.#attemptAbort?.abort(); // a reconnect attempt in progress gives way to this one
    this.#stopped = false;
    this.#setState("connecting");
    const attempt = this.#attempt(options.timeout ?? this.o.connectTimeout, options.signal);
    this.#connecting = attempt.then(
      (connack) => connack,
      (error: Error) => {
        if (this.clientState === "connecting") {
          this.#stopped = true;
          this.#setState("disconnected");
        }
        throw error;
      },
    ).finally(() => this.#connecting = undefined);
    return this.#connecting;
  }

  flush(options: DisconnectOptions = {}): Promise<void> {
    return this.out.whenFlushed(this.#clock, options.timeout ?? this.o.connectTimeout);
  }

  disconnect(options: DisconnectOptions = {}): Promise<void> {
    this.#closing ??= this.#close(options.timeout ?? this.o.connectTimeout).finally(() => {
      this.#closing = undefined;
    });
    return this.#closing;
  }

  /** Logs an error and emits it as an `"error"` event. */
  protected reportError(error: Error): void {
    this.#logger.error(error.message, { name: error.name });
    this.#emit("error", error);
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
        host: this.o.host,
        port: this.o.port,
        tls: this.o.tls,
        codec: this.codec,
        clock: this.#clock,
        logger: this.#logger,
        connect: this.o.connect,
        protocolVersion: this.version,
        fallback: this.o.fallback && this.o.protocolVersion === 5,
        timeout,
        signal: ac.signal,
        maxIncoming: MAX_PACKET,
        hooks: this.#dispatch.hooks,
        onAccepted: (c, connack, version) => this.#onAccepted(c, connack, version),
      });
    } catch (e) {
      this.lastFailure = asError(e);
      throw e;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      if (this.#attemptAbort === ac) this.#attemptAbort = undefined;
    }
  }

  #onAccepted(conn: Connection, connack: ConnackPacket, version: 4 | 5): void {
    this.out.conn = conn;
    this.#connack = connack;
    this.version = version;
    applyConnackLimits(this.out, connack, this.o.maxPacketSize);
    this.#reconnect.connected();
    this.#setState("connected");
    this.#logger.info("Connected", {
      host: this.o.host,
      port: this.o.port,
      protocolVersion: version,
    });
    this.#keepalive.start(keepaliveFor(connack, this.o.connect.keepalive));
    const first = this.o.onSessionStart ? this.#sessionStart : undefined;
    this.out.resume(conn, inflightWindow(connack, this.out.inflight.capacity), first);
    this.#emit("connect", connack);
  }

  /**
   * The current connection ended by itself (or must be ended); on MQTT 5, a
   * `disconnect` reason code is sent as the last packet before closing.
   */
  #lost(error: Error, reasonCode?: number, disconnect?: number): void {
    const conn = this.out.conn;
    if (!conn) return;
    this.out.detach(); // from here on nothing but the DISCONNECT reaches this connection
    this.#reconnect.lost(reasonCode);
    this.#keepalive.stop();
    this.#dispatch.ctx.inboundQos2.clear();
    if (disconnect !== undefined && this.version === 5) {
      closeAfter(conn, { type: "disconnect", reasonCode: disconnect }, error, this.#clock);
    } else {
      conn.close(error);
    }
    this.lastFailure = error;
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
    if (this.#stopped || this.clientState === "closing") return this.out.wake(); // disconnect() finishes the job
    if (!this.o.reconnect) {
      this.#stopped = true;
      this.#setState("disconnected");
      this.out.failAll(
        new ConnectionClosedError(`Cannot complete: ${error.message}`, reasonCode, {
          cause: error,
        }),
      );
      return;
    }
    this.#scheduleReconnect();
  }

  #scheduleReconnect(): void {
    const next = this.#reconnect.next();
    this.#setState("reconnecting");
    this.#emit("reconnecting", next);
    this.#reconnect.start(next.delay, () => {
      this.#attempt(this.o.connectTimeout).catch((e: Error) => {
        if (this.#stopped || this.clientState !== "reconnecting") return;
        this.reportError(e);
        this.#scheduleReconnect();
      });
    });
  }

  async #close(timeout: number): Promise<void> {
    this.#stopped = true;
    this.#reconnect.cancel();
    this.#attemptAbort?.abort(new ConnectionClosedError("Cannot connect: disconnect() was called"));
    const conn = this.out.conn;
    const error = new ConnectionClosedError("Cannot complete: the client disconnected first");
    // Announce the end unless the connection already ended by itself (and said so) meanwhile.
    let announce = conn !== undefined;
    if (conn && this.clientState === "connected") {
      this.#setState("closing");
      await this.flush({ timeout }).catch(() => {});
      announce = this.out.conn === conn;
      if (announce && !conn.closed) {
        // Nothing may follow the DISCONNECT [MQTT-3.14.4-1]: no PUBACK for a late PUBLISH, no
        // queued message released by a late PUBACK, no PINGREQ; then close [MQTT-3.14.4-2].
        this.out.stopNudging();
        this.#keepalive.stop();
        this.out.detach();
        const disconnect = this.version === 5 ? { reasonCode: 0 } : {};
        await closeAfter(conn, { type: "disconnect", ...disconnect }, error, this.#clock);
      }
    }
    this.#shutdown(error, announce);
  }

  /** Closes everything now and fails whatever is pending. */
  #shutdown(error: Error, announce = this.out.conn !== undefined): void {
    this.#stopped = true;
    this.#reconnect.cancel();
    this.#attemptAbort?.abort(error);
    this.#keepalive.stop();
    const conn = this.out.conn;
    this.out.detach();
    conn?.close(error);
    this.out.failAll(error);
    this.#setState("disconnected");
    if (announce) {
      this.#emit("disconnect", { reason: undefined });
    }
  }

  #setState(state: ClientState): void {
    this.clientState = state;
    this.out.accepting = state === "connected";
  }
}
