/**
 * {@linkcode MqttClient}: a robust MQTT 5 / 3.1.1 client for QoS 0 and 1.
 *
 * @module
 */

import type { ConnackPacket, Subscription } from "../codec/types.ts";
import { type MqttClientEventMap, TypedEventTarget } from "./events.ts";
import type { PublishResult } from "./inflight.ts";
import type {
  ClientState,
  ConnectOptions,
  DisconnectOptions,
  MqttClientOptions,
  PublishOptions,
} from "./options.ts";
import { Session } from "./_session.ts";

/**
 * An MQTT client for QoS 0 and 1 built for flaky networks: MQTT 5 with
 * fallback to 3.1.1, TLS, keepalive, reconnect with backoff and jitter,
 * resubscription, DUP resend of unacknowledged QoS 1 messages, a bounded
 * offline queue, and batched writes.
 *
 * @example Publish and subscribe
 * ```ts ignore
 * import { MqttClient } from "./client.ts";
 * await using client = new MqttClient({ host: "127.0.0.1", username: "ACCESS_TOKEN" });
 * client.addEventListener("message", (e) => console.log(e.detail.topic));
 * await client.connect();
 * await client.subscribe([{ topicFilter: "v1/devices/me/rpc/request/+", qos: 1 }]);
 * await client.publish("v1/devices/me/telemetry", new TextEncoder().encode('{"t":21}'), { qos: 1 });
 * ```
 */
export class MqttClient extends TypedEventTarget<MqttClientEventMap> {
  #s: Session;

  /**
   * Creates a client (nothing is connected until {@linkcode connect}).
   *
   * @param options Server, credentials and behaviour.
   * @throws {TypeError | RangeError} For invalid options.
   */ constructor(options: MqttClientOptions) {
    super();
    this.#s = new Session(options, (type, detail) => {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    });
  }

  /** Current lifecycle state. */ get state(): ClientState {
    return this.#s.state;
  }

  /** `true` while a session is open (state `"connected"` or `"closing"`). */ get connected(): boolean {
    return this.#s.connected;
  }

  /** Negotiated protocol level (the requested one before the first connection). */ get protocolVersion():
    | 4
    | 5 {
    return this.#s.protocolVersion;
  }

  /** The error that ended the last connection or connection attempt. */ get lastError():
    | Error
    | undefined {
    return this.#s.lastError;
  }

  /** Largest packet the client may send: the server's Maximum Packet Size or `maxPacketSize`, whichever is smaller. */ get maxPacketSize(): number {
    return this.#s.maxPacketSize;
  }

  /** Messages accepted and not yet acknowledged (QoS 1) or written (QoS 0): queued plus in flight. */ get pendingCount(): number {
    return this.#s.pendingCount;
  }

  /**
   * Connects (CONNECT, then CONNACK). On MQTT 5 refusal of the protocol
   * level, retries with 3.1.1 when `fallback` is on. After a successful
   * connect the client reconnects by itself until {@linkcode disconnect}.
   * Calling it while connected returns the last CONNACK; while connecting,
   * the pending attempt.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * const connack = await client.connect({ timeout: 5000 });
   * console.log(connack.sessionPresent, client.protocolVersion);
   * await client.disconnect();
   * ```
   *
   * @param options Timeout and abort signal.
   * @returns The server's CONNACK.
   * @throws {ConnectionRefusedError} If the server refuses (bad credentials: return code 4/5, reason 0x86/0x87).
   * @throws {ConnectionClosedError} If the server cannot be reached or closes the connection.
   * @throws {DOMException} `TimeoutError` or `AbortError`.
   */ connect(options: ConnectOptions = {}): Promise<ConnackPacket> {
    return this.#s.connect(options);
  }

  /**
   * Waits until every queued and in-flight message is written (QoS 0) or
   * acknowledged (QoS 1), reconnecting in between if needed.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * for (let i = 0; i < 1000; i++) client.publishNoWait("t", new Uint8Array([i & 255]), { qos: 1 });
   * await client.flush({ timeout: 5000 });
   * ```
   *
   * @param options Timeout in milliseconds.
   * @returns A promise that resolves when nothing is pending.
   * @throws {DOMException} `TimeoutError` when the timeout expires first.
   */ flush(options: DisconnectOptions = {}): Promise<void> {
    return this.#s.flush(options);
  }

  /**
   * Disconnects cleanly: flushes queued and in-flight messages (up to
   * `timeout`), sends DISCONNECT, closes the connection and stops
   * reconnecting. Messages still pending after the timeout fail with
   * {@linkcode ConnectionClosedError}. Subscriptions are remembered for a
   * later {@linkcode connect}. No timers or sockets are left behind.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * await client.disconnect({ timeout: 2000 });
   * ```
   *
   * @param options Flush timeout in milliseconds.
   * @returns A promise that resolves when closed.
   */ disconnect(options: DisconnectOptions = {}): Promise<void> {
    return this.#s.disconnect(options);
  }

  /**
   * Disconnects; makes `await using client = new MqttClient(...)` work.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * await using client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * ```
   *
   * @returns A promise that resolves when closed.
   */ [Symbol.asyncDispose](): Promise<void> {
    return this.#s.disconnect();
  }

  /**
   * Publishes a message. QoS 0 resolves once written to the socket, QoS 1
   * once the PUBACK arrives. Offline, or while the in-flight window is
   * full, the message waits in the bounded queue and is sent in order
   * later; unacknowledged QoS 1 messages are resent with DUP after a
   * reconnect.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * const { packetId } = await client.publish("v1/devices/me/telemetry", new TextEncoder().encode('{"t":1}'), { qos: 1 });
   * ```
   *
   * @param topic Topic name (no wildcards).
   * @param payload Payload bytes.
   * @param options QoS, retain, MQTT 5 properties, abort signal.
   * @returns The packet identifier and PUBACK reason code.
   * @throws {TypeError} For an invalid topic, payload or option.
   * @throws {RangeError} For QoS 2.
   * @throws {PayloadTooLargeError} If the packet exceeds {@linkcode maxPacketSize}.
   * @throws {QueueFullError} If the message must wait and the queue is full (policy `"reject"`).
   * @throws {MessageDroppedError} If it was dropped from the queue for a newer one (policy `"drop-oldest"`).
   * @throws {PublishError} If the server answers with an MQTT 5 reason code >= 0x80.
   * @throws {ConnectionClosedError} If the client is disconnected before the message is done.
   */ publish(
    topic: string,
    payload: Uint8Array,
    options?: PublishOptions,
  ): Promise<PublishResult> {
    return this.#s.publish(topic, payload, options);
  }

  /**
   * Publishes without creating a promise (fire and forget, for high
   * rates). Failures that happen later (a PUBACK error, a message dropped
   * from the queue) are dispatched as `"error"` events. Messages beyond the
   * in-flight window or 1 MiB of unwritten bytes wait in the queue; a
   * producer faster than the network should `await flush()` between
   * batches, or it meets {@linkcode QueueFullError}.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * client.publishNoWait("sensors/t", new Uint8Array([1]), { qos: 1 });
   * await client.flush();
   * ```
   *
   * @param topic Topic name.
   * @param payload Payload bytes.
   * @param options QoS, retain, properties (a `signal` is ignored).
   * @throws {TypeError | RangeError | PayloadTooLargeError | QueueFullError} As {@linkcode publish}, synchronously.
   */ publishNoWait(topic: string, payload: Uint8Array, options?: PublishOptions): void {
    this.#s.publishNoWait(topic, payload, options);
  }

  /**
   * Subscribes. The subscriptions are remembered and made again after every
   * reconnect. Offline, the request is sent on the next connection.
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * const granted = await client.subscribe([{ topicFilter: "v1/devices/me/attributes", qos: 1 }]);
   * ```
   *
   * @param subscriptions Topic filters with QoS 0 or 1.
   * @param options Abort signal.
   * @returns The SUBACK codes (granted QoS), one per subscription.
   * @throws {TypeError} For an invalid topic filter. @throws {RangeError} For QoS 2.
   * @throws {SubscribeError} If the server refuses a filter (the others stay subscribed).
   */ subscribe(
    subscriptions: Subscription[],
    options: { signal?: AbortSignal } = {},
  ): Promise<number[]> {
    return this.#s.subscribe(subscriptions, options);
  }

  /**
   * Unsubscribes and forgets the topic filters. Offline, it resolves at once
   * (the next session starts without them).
   *
   * @example
   * ```ts ignore
   * import { MqttClient } from "./client.ts";
   * const client = new MqttClient({ host: "127.0.0.1" });
   * await client.connect();
   * await client.unsubscribe(["v1/devices/me/attributes"]);
   * ```
   *
   * @param topicFilters Topic filters.
   * @returns A promise that resolves on UNSUBACK.
   * @throws {TypeError} For an invalid topic filter.
   */ unsubscribe(topicFilters: string[]): Promise<void> {
    return this.#s.unsubscribe(topicFilters);
  }
}
