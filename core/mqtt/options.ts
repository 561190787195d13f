/**
 * Options of {@linkcode MqttClient} and of its methods.
 *
 * @module
 */

import type { Codec, Properties } from "../codec/types.ts";
import type { ReconnectOptions } from "./backoff.ts";
import type { Clock } from "./clock.ts";
import type { QueueOptions } from "./queue.ts";
import type { TlsOptions, TransportFactory } from "./transport.ts";

/**
 * Lifecycle state of the client: one value at a time.
 *
 * - `disconnected`: not connected and not trying (initially, and after `disconnect()`).
 * - `connecting`: `connect()` is in progress.
 * - `connected`: CONNACK accepted.
 * - `reconnecting`: the connection was lost; waiting for or making a reconnect attempt.
 * - `closing`: `disconnect()` is flushing and closing.
 *
 * @example
 * ```ts
 * import type { ClientState } from "./options.ts";
 * const s: ClientState = "reconnecting";
 * ```
 */
export type ClientState = "disconnected" | "connecting" | "connected" | "reconnecting" | "closing";

/**
 * Where the client writes diagnostics. Messages and data never contain
 * passwords or tokens.
 *
 * @example
 * ```ts
 * import type { Logger } from "./options.ts";
 * const logger: Logger = {
 *   debug: () => {},
 *   info: (msg, data) => console.info(msg, data ?? ""),
 *   warn: (msg, data) => console.warn(msg, data ?? ""),
 *   error: (msg, data) => console.error(msg, data ?? ""),
 * };
 * ```
 */
export interface Logger {
  /** Verbose diagnostics. */
  debug(msg: string, data?: Record<string, unknown>): void;
  /** Connection lifecycle. */
  info(msg: string, data?: Record<string, unknown>): void;
  /** Recoverable problems (a lost connection, a late acknowledgement). */
  warn(msg: string, data?: Record<string, unknown>): void;
  /** Failures nobody awaits. */
  error(msg: string, data?: Record<string, unknown>): void;
}

/**
 * Options of {@linkcode MqttClient}.
 *
 * @example
 * ```ts
 * import type { MqttClientOptions } from "./options.ts";
 * const o: MqttClientOptions = { host: "127.0.0.1", username: "ACCESS_TOKEN", keepalive: 30 };
 * ```
 */
export interface MqttClientOptions {
  /** Server host name or IP address. */
  host: string;
  /** Server port. @default {1883, or 8883 with tls} */
  port?: number;
  /** `true` or TLS settings for MQTT over TLS; the server certificate is always verified. @default {false} */
  tls?: boolean | TlsOptions;
  /** Client identifier. @default {""} (the server assigns one; MQTT 3.1.1 needs clean sessions for that, which this client uses) */
  clientId?: string;
  /** User name (ThingsBoard: the access token). */
  username?: string;
  /** Password; strings are sent as UTF-8. */
  password?: string | Uint8Array;
  /** Protocol level to try first. @default {5} */
  protocolVersion?: 4 | 5;
  /** Retry with MQTT 3.1.1 when the server refuses level 5. @default {true} */
  fallback?: boolean;
  /** Keepalive in seconds (0 disables PINGREQ). @default {60} */
  keepalive?: number;
  /** Milliseconds to wait for the TCP/TLS connection and the CONNACK. @default {10000} */
  connectTimeout?: number;
  /** Reconnect after a lost connection; `false` disables. @default {true} */
  reconnect?: boolean | ReconnectOptions;
  /** Most QoS 1 messages awaiting PUBACK at once (1..65535; the server's Receive Maximum lowers it). @default {100} */
  maxInflight?: number;
  /** Bounded queue for messages that cannot be sent yet. @default {{ maxSize: 1000, policy: "reject" }} */
  queue?: QueueOptions;
  /**
   * Largest packet the client sends when the server announces no Maximum
   * Packet Size (ThingsBoard does not; it accepts 65,536 bytes by default).
   * @default {268435460}
   */
  maxPacketSize?: number;
  /** Codec engine. @default {tsCodec} */
  codec?: Codec;
  /** Diagnostics sink. @default {undefined} (silent) */
  logger?: Logger;
  /**
   * Called on every accepted connection once the subscriptions the client
   * remembers are renewed, and before the unacknowledged and queued messages
   * go out again: what it publishes (synchronously) is sent ahead of them,
   * while the in-flight window has room. For a request the server must see
   * before the backlog (the device client asks ThingsBoard for its limits here).
   */
  onSessionStart?: () => void;
  /**
   * Aborting it closes the client at once (no flush): pending messages fail
   * with its reason (or an `AbortError`), and later `connect()` / `publish()`
   * calls fail the same way.
   */
  signal?: AbortSignal;
  /** Opens connections (injected by tests). @default {connectTransport} */
  transport?: TransportFactory;
  /** Time source and timers (injected by tests). @default {realClock} */
  clock?: Clock;
  /** Random numbers in [0, 1) for reconnect jitter (injected by tests). @default {Math.random} */
  random?: () => number;
}

/**
 * Options of {@linkcode MqttClient.connect}.
 *
 * @example
 * ```ts
 * import type { ConnectOptions } from "./options.ts";
 * const o: ConnectOptions = { timeout: 5000, signal: AbortSignal.timeout(10_000) };
 * ```
 */
export interface ConnectOptions {
  /** Cancels the attempt. */
  signal?: AbortSignal;
  /** Milliseconds for connection and CONNACK. @default {connectTimeout} */
  timeout?: number;
}

/**
 * Options of {@linkcode MqttClient.publish}.
 *
 * @example
 * ```ts
 * import type { PublishOptions } from "./options.ts";
 * const o: PublishOptions = { qos: 1, properties: { contentType: "application/json" } };
 * ```
 */
export interface PublishOptions {
  /** 0 (at most once) or 1 (at least once); QoS 2 is refused. @default {0} */
  qos?: 0 | 1;
  /** Retain flag. @default {false} */
  retain?: boolean;
  /** MQTT 5 properties (ignored on 3.1.1). */
  properties?: Properties;
  /**
   * Stops waiting: a queued message is removed; an in-flight one is no
   * longer awaited and not resent after a reconnect (the server may have
   * received it already).
   */
  signal?: AbortSignal;
}

/**
 * Options of {@linkcode MqttClient.disconnect} and {@linkcode MqttClient.flush}.
 *
 * @example
 * ```ts
 * import type { DisconnectOptions } from "./options.ts";
 * const o: DisconnectOptions = { timeout: 2000 };
 * ```
 */
export interface DisconnectOptions {
  /** Milliseconds to wait for queued and in-flight messages. @default {connectTimeout} */
  timeout?: number;
}
