/**
 * {@linkcode TBGatewayMqttClient}: the ThingsBoard gateway client.
 *
 * @module
 */

import type { ConnackPacket } from "../codec/types.ts";
import { type ClientState, ConnectionClosedError, SubscribeError } from "../mqtt/mod.ts";
import { TypedEventTarget } from "../mqtt/events.ts";
import type { KeyValues, Telemetry } from "../payload.ts";
import type { AttributesResponse } from "../client/attributes.ts";
import type { RequestOptions } from "../client/options.ts";
import type { SessionLimits } from "../client/limits.ts";
import { Session } from "../client/session.ts";
import { defaultTimers } from "../client/requests.ts";
import { DeviceRegistry } from "./devices.ts";
import type { TBGatewayMqttClientEventMap } from "./events.ts";
import {
  attributesBody,
  checkDeviceName,
  claimBody,
  rpcReplyBody,
  telemetryBody,
} from "./messages.ts";
import type {
  ClaimDeviceOptions,
  ConnectDeviceOptions,
  GatewayAttributesRequest,
  GatewaySendOptions,
  TBGatewayMqttClientOptions,
} from "./options.ts";
import { GatewayRouter, type GatewayRpcHandler } from "./router.ts";
import type { GatewayAttributeCallback } from "./subscriptions.ts";
import { GATEWAY_SUBSCRIPTIONS, GatewayTopics } from "./topics.ts";
import { Transport } from "./_transport.ts";

/**
 * A ThingsBoard gateway client over MQTT (5.0, falling back to 3.1.1): it
 * connects devices behind the gateway, sends their telemetry and
 * attributes, requests their attributes, receives their shared-attribute
 * updates and server-side RPC, and claims them; with automatic reconnect,
 * resubscription and re-announcement of the connected devices (ThingsBoard
 * keeps no session). Everything is sent with QoS 1 by default. Once
 * ThingsBoard reported the gateway's rate limits (`gatewayRateLimits` in the
 * session limits), the devices' messages are paced at 80 % of them, because
 * ThingsBoard closes the whole gateway connection when a device exceeds them
 * (the option `rateLimits: false` turns pacing off).
 *
 * Events ({@linkcode TBGatewayMqttClientEventMap}): `connect`, `disconnect`,
 * `reconnecting`, `error`, `sessionlimits`, `devicedisconnect` (ThingsBoard's
 * notice about one device), `deviceannounce`.
 *
 * @example Connect a device and send its telemetry
 * ```ts ignore
 * import { TBGatewayMqttClient } from "@tbwasm/sdk/gateway";
 * await using gateway = new TBGatewayMqttClient({ host: "127.0.0.1", accessToken: "GATEWAY_TOKEN" });
 * gateway.setRpcRequestHandler(({ device, method }) => method === "ping" ? { pong: device } : undefined);
 * await gateway.connect();
 * await gateway.connectDevice("Thermometer 1", { type: "thermometer" });
 * await gateway.sendTelemetry("Thermometer 1", { temperature: 21.5 });
 * ```
 */
export class TBGatewayMqttClient extends TypedEventTarget<TBGatewayMqttClientEventMap> {
  #s: Session;
  #t: Transport;
  #router: GatewayRouter;
  #devices = new DeviceRegistry();
  #connectTimeout: number;

  /**
   * Creates a client; nothing happens on the network until {@linkcode TBGatewayMqttClient.connect}.
   *
   * @param options Host, the gateway device's credentials, and behaviour.
   * @throws {TypeError} for a missing host, conflicting credentials, an unknown engine.
   * @throws {RangeError} for QoS 2, QoS 0 with MQTT 5, or a non-positive number.
   *
   * @example
   * ```ts
   * import { TBGatewayMqttClient } from "@tbwasm/sdk/gateway";
   * const gateway = new TBGatewayMqttClient({ host: "127.0.0.1", accessToken: "GW", engine: "ts" });
   * ```
   */
  constructor(options: TBGatewayMqttClientOptions) {
    super();
    if (options?.qos === 0 && (options.protocolVersion ?? 5) === 5) {
      throw new RangeError(
        "Cannot create client: QoS 0 is refused with MQTT 5 (ThingsBoard answers QoS 0 gateway messages with a malformed-packet notice); use QoS 1 or protocolVersion 4",
      );
    }
    this.#connectTimeout = options.connectTimeout ?? 10_000;
    const emit = (type: string, detail: unknown) =>
      this.dispatchEvent(new CustomEvent(type, { detail }));
    this.#s = new Session({ ...options }, emit);
    const clock = options.clock;
    this.#t = new Transport(this.#s, clock ? () => clock.now() : () => performance.now());
    const logger = this.#s.logger;
    this.#router = new GatewayRouter({
      logger,
      timers: options.clock ?? defaultTimers,
      report: (error) => emit("error", error),
      notice: (device, reason) => emit("devicedisconnect", this.#t.notice(device, reason)),
      reply: async (device, id, value) =>
        await this.#t.send("RPC reply", GatewayTopics.rpc, rpcReplyBody(device, id, value)),
    });
    const mqtt = this.#s.mqtt;
    const echo = this.#t.echo;
    mqtt.addEventListener("message", ({ detail: packet }) => {
      if (mqtt.protocolVersion === 4 && echo.isEcho(packet.topic, packet.payload)) {
        logger.debug("Ignored the echo of our own message", { topic: packet.topic });
        return;
      }
      this.#router.route(packet);
    });
    this.addEventListener("sessionlimits", ({ detail }) => this.#t.pacer.apply(detail));
    mqtt.addEventListener("disconnect", () => echo.disconnected());
    mqtt.addEventListener("connect", () => {
      echo.connected(mqtt.protocolVersion === 4);
      this.#reannounce();
    });
  }

  /** Lifecycle state: `disconnected`, `connecting`, `connected`, `reconnecting` or `closing`. */
  get state(): ClientState {
    return this.#s.mqtt.state;
  }

  /** Whether the client is connected now. */
  get connected(): boolean {
    return this.#s.mqtt.connected;
  }

  /** The negotiated protocol level (the requested one before connecting). */
  get protocolVersion(): 4 | 5 {
    return this.#s.mqtt.protocolVersion;
  }

  /** The limits ThingsBoard reported for the gateway's session, once it answered. */
  get sessionLimits(): SessionLimits | undefined {
    return this.#s.limits;
  }

  /** Largest message the client sends, bytes (65,536 until the server says otherwise). */
  get maxPayloadSize(): number {
    return this.#s.maxPayloadSize;
  }

  /** Names of the devices connected through the gateway (announced again after reconnects). */
  get devices(): string[] {
    return this.#devices.names;
  }

  /**
   * Connects, subscribes (QoS 1) to the gateway topics (attribute pushes and
   * responses, RPC) and the gateway's own device topics, announces the
   * devices connected before, and asks for the session limits in the
   * background. After this the client reconnects by itself until
   * {@linkcode TBGatewayMqttClient.disconnect}. A refused subscription is
   * reported through the `error` event.
   *
   * @param options Timeout (ms) and abort signal.
   * @returns The CONNACK.
   * @throws {ConnectionRefusedError} when ThingsBoard refuses (its meaning, never the token).
   * @throws {ConnectionClosedError} when the server cannot be reached.
   * @throws {DOMException} `TimeoutError` or `AbortError`.
   *
   * @example
   * ```ts ignore
   * await gateway.connect({ timeout: 5000 });
   * ```
   */
  async connect(options: RequestOptions = {}): Promise<ConnackPacket> {
    const connack = await this.#s.connect(options);
    // The SUBACK gets the same time as the CONNACK did.
    const timeout = options.timeout ?? this.#connectTimeout;
    const timers = this.#s.options.clock ?? defaultTimers;
    const expiry = new AbortController();
    const timer = timers.setTimeout(() => {
      expiry.abort(
        new DOMException(`Cannot connect: no SUBACK within ${timeout} ms`, "TimeoutError"),
      );
    }, timeout);
    const signal = options.signal
      ? AbortSignal.any([options.signal, expiry.signal])
      : expiry.signal;
    try {
      const filters = [...GATEWAY_SUBSCRIPTIONS];
      const subs = filters.map((topicFilter) => ({ topicFilter, qos: 1 as const, noLocal: true }));
      await this.#s.mqtt.subscribe(subs, { signal }).catch((error) => {
        if (!(error instanceof SubscribeError)) throw error;
        this.#s.logger.warn("ThingsBoard refused gateway subscriptions", {
          topicFilters: error.failedTopicFilters,
        });
        this.dispatchEvent(new CustomEvent("error", { detail: error }));
      });
    } catch (error) {
      await this.#s.mqtt.disconnect({ timeout: 0 }).catch(() => {});
      throw error;
    } finally {
      timers.clearTimeout(timer as number);
    }
    return connack;
  }

  /**
   * Disconnects after flushing what is queued and in flight; pending
   * attribute requests then fail with `ConnectionClosedError`. Devices,
   * subscriptions and the RPC handler stay for a later `connect()`.
   *
   * @param options `timeout` of the flush, ms.
   *
   * @example
   * ```ts ignore
   * await gateway.disconnect();
   * ```
   */
  async disconnect(options: { timeout?: number } = {}): Promise<void> {
    try {
      await this.#s.disconnect(options);
    } finally {
      this.#router.attributeRequests.rejectAll(
        new ConnectionClosedError("Cannot complete request: the client disconnected"),
      );
      this.#t.pacer.close(new ConnectionClosedError("Cannot send: the client disconnected"));
    }
  }

  /**
   * Same as {@linkcode TBGatewayMqttClient.disconnect}, for `await using`.
   *
   * @example
   * ```ts ignore
   * await using gateway = new TBGatewayMqttClient({ host: "127.0.0.1", accessToken: "GW" });
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /**
   * Connects a device through the gateway (`v1/gateway/connect`);
   * ThingsBoard creates it, with profile `type`, when it does not exist.
   * The device is remembered and announced again after every reconnect
   * until {@linkcode TBGatewayMqttClient.disconnectDevice}. Resolves on PUBACK.
   *
   * @param device The device name.
   * @param options Device profile (`type`), QoS, signal.
   * @throws {InvalidDeviceNameError} before sending, for an empty name.
   * @throws {PublishError} when ThingsBoard refused it (e.g. 0x97: device limit reached).
   *
   * @example
   * ```ts ignore
   * await gateway.connectDevice("Thermometer 1", { type: "thermometer" });
   * ```
   */
  async connectDevice(device: string, options: ConnectDeviceOptions = {}): Promise<void> {
    const what = "Cannot connect device";
    const name = checkDeviceName(device, what);
    const { type } = options;
    if (type !== undefined && (typeof type !== "string" || type === "")) {
      throw new TypeError(`${what}: type must be a non-empty string`);
    }
    const qos = this.#t.qos(options.qos, what);
    const known = this.#devices.has(name);
    const settle = this.#devices.announce(name, type);
    try {
      await this.#t.send(
        "device connect",
        GatewayTopics.connect,
        announcement(name, type),
        qos,
        options.signal,
      );
    } catch (error) {
      if (!known) this.#devices.remove(name);
      throw error;
    } finally {
      settle();
    }
  }

  /**
   * Disconnects a device (`v1/gateway/disconnect`) and stops announcing it.
   *
   * @param device The device name.
   * @param options QoS and signal.
   * @throws {InvalidDeviceNameError} before sending.
   *
   * @example
   * ```ts ignore
   * await gateway.disconnectDevice("Thermometer 1");
   * ```
   */
  async disconnectDevice(device: string, options: GatewaySendOptions = {}): Promise<void> {
    const what = "Cannot disconnect device";
    const name = checkDeviceName(device, what);
    const qos = this.#t.qos(options.qos, what);
    this.#devices.remove(name);
    await this.#t.send(
      "device disconnect",
      GatewayTopics.disconnect,
      { device: name },
      qos,
      options.signal,
    );
  }

  /**
   * Sends a device's telemetry: an object (server time), `{ ts, values }`,
   * or an array of both (sent as `{"<device>":[…]}`). A device not connected
   * yet is created by ThingsBoard with the default profile.
   *
   * @param device The device name.
   * @param data The telemetry.
   * @param options QoS and signal.
   * @throws {InvalidDeviceNameError | InvalidPayloadError | PayloadTooLargeError} before sending.
   * @throws {PublishError} when ThingsBoard refused it (MQTT 5 PUBACK reason code).
   *
   * @example
   * ```ts ignore
   * await gateway.sendTelemetry("Thermometer 1", [{ ts: Date.now(), values: { temperature: 21.5 } }]);
   * ```
   */
  async sendTelemetry(
    device: string,
    data: Telemetry,
    options: GatewaySendOptions = {},
  ): Promise<void> {
    const what = "Cannot send telemetry";
    const name = checkDeviceName(device, what);
    const qos = this.#t.qos(options.qos, what);
    await this.#t.send(
      "telemetry",
      GatewayTopics.telemetry,
      telemetryBody(name, data),
      qos,
      options.signal,
      data,
    );
  }

  /**
   * Sends a device's client-side attributes (one object).
   *
   * @param device The device name.
   * @param attributes The attributes.
   * @param options QoS and signal.
   * @throws {InvalidDeviceNameError | InvalidPayloadError | PayloadTooLargeError} before sending.
   * @throws {PublishError} when ThingsBoard refused it.
   *
   * @example
   * ```ts ignore
   * await gateway.sendAttributes("Thermometer 1", { firmware: "1.2.0" });
   * ```
   */
  async sendAttributes(
    device: string,
    attributes: KeyValues,
    options: GatewaySendOptions = {},
  ): Promise<void> {
    const what = "Cannot send attributes";
    const name = checkDeviceName(device, what);
    const qos = this.#t.qos(options.qos, what);
    await this.#t.send(
      "attributes",
      GatewayTopics.attributes,
      attributesBody(name, attributes),
      qos,
      options.signal,
      attributes,
    );
  }

  /**
   * Requests a device's attributes by key. ThingsBoard's gateway API asks
   * one scope per request: with both `clientKeys` and `sharedKeys` two
   * requests are sent. Keys not found are absent from the result.
   *
   * @param device The device name.
   * @param options Keys, timeout (ms) and signal.
   * @returns Both scopes; a scope not asked for is `{}`.
   * @throws {InvalidDeviceNameError | InvalidAttributeKeyError | TypeError} before sending
   * (no keys given, an empty list).
   * @throws {DOMException} `TimeoutError` (ThingsBoard sends nothing on a server error) or `AbortError`.
   *
   * @example
   * ```ts ignore
   * const { shared } = await gateway.requestAttributes("Thermometer 1", { sharedKeys: ["targetTemp"] });
   * ```
   */
  requestAttributes(
    device: string,
    options: GatewayAttributesRequest,
  ): Promise<AttributesResponse> {
    return this.#t.requestAttributes(this.#router.attributeRequests, device, options);
  }

  /**
   * Subscribes to shared-attribute updates of one device, or of every
   * device behind the gateway (`undefined`). The subscription is local
   * (ThingsBoard pushes every update on `v1/gateway/attributes`) and
   * survives reconnects.
   *
   * @param device A device name, or `undefined` for all devices.
   * @param callback Gets `{ device, values, deleted }`.
   * @returns The subscription id.
   * @throws {InvalidDeviceNameError | TypeError} for a bad name or callback.
   *
   * @example
   * ```ts ignore
   * gateway.subscribeToAttributes("Thermometer 1", ({ values }) => console.log(values.targetTemp));
   * ```
   */
  subscribeToAttributes(device: string | undefined, callback: GatewayAttributeCallback): number {
    const what = "Cannot subscribe";
    if (device !== undefined) checkDeviceName(device, what);
    if (typeof callback !== "function") throw new TypeError(`${what}: callback must be a function`);
    return this.#router.subscriptions.add(device, callback);
  }

  /**
   * Removes an attribute subscription.
   *
   * @param id The id from {@linkcode TBGatewayMqttClient.subscribeToAttributes}.
   * @returns `false` when there was no such subscription.
   *
   * @example
   * ```ts ignore
   * gateway.unsubscribeFromAttributes(id);
   * ```
   */
  unsubscribeFromAttributes(id: number): boolean {
    return this.#router.subscriptions.remove(id);
  }

  /**
   * Sets (or with `undefined` clears) the handler of server-side RPC to the
   * devices behind the gateway. Its return value (or what its Promise
   * resolves to) is the reply `{"device","id","data"}`; `undefined` sends no
   * reply (use {@linkcode TBGatewayMqttClient.sendRpcReply}); a throw (or
   * rejection) replies `{"error":"<message>"}`.
   *
   * @param handler The handler.
   * @throws {TypeError} when it is not a function.
   *
   * @example
   * ```ts ignore
   * gateway.setRpcRequestHandler(async ({ device, method, params }) => ({ device, method, params }));
   * ```
   */
  setRpcRequestHandler(handler: GatewayRpcHandler | undefined): void {
    if (handler !== undefined && typeof handler !== "function") {
      throw new TypeError("Cannot set RPC handler: handler must be a function");
    }
    this.#router.rpcHandler = handler;
  }

  /**
   * Replies to a server-side RPC of a device behind the gateway.
   *
   * @param device The device name.
   * @param id The request id ({@linkcode GatewayRpcRequest.id}).
   * @param data Any JSON value.
   * @param options QoS and signal.
   * @throws {InvalidDeviceNameError | InvalidPayloadError | TypeError} before sending.
   *
   * @example
   * ```ts ignore
   * await gateway.sendRpcReply("Valve 1", request.id, { ok: true });
   * ```
   */
  async sendRpcReply(
    device: string,
    id: number,
    data: unknown,
    options: GatewaySendOptions = {},
  ): Promise<void> {
    const what = "Cannot send RPC reply";
    const body = rpcReplyBody(checkDeviceName(device, what), id, data);
    const qos = this.#t.qos(options.qos, what);
    await this.#t.send("RPC reply", GatewayTopics.rpc, body, qos, options.signal);
  }

  /**
   * Lets a user claim a device behind the gateway with `secretKey` within
   * `durationMs` (ThingsBoard's default when omitted). Resolves on PUBACK.
   *
   * @param device The device name.
   * @param secretKey The secret the user enters.
   * @param options `durationMs`, QoS and signal.
   * @throws {InvalidDeviceNameError | TypeError} before sending.
   *
   * @example
   * ```ts ignore
   * await gateway.claimDevice("Thermometer 1", "s3cr3t", { durationMs: 60_000 });
   * ```
   */
  async claimDevice(
    device: string,
    secretKey?: string,
    options: ClaimDeviceOptions = {},
  ): Promise<void> {
    const what = "Cannot claim device";
    const name = checkDeviceName(device, what);
    const body = claimBody(name, secretKey, options.durationMs);
    const qos = this.#t.qos(options.qos, what);
    await this.#t.send("claim request", GatewayTopics.claim, body, qos, options.signal);
  }

  /** Announces the remembered devices on a new connection. */
  #reannounce(): void {
    const list = this.#devices.toAnnounce();
    if (list.length === 0) return;
    let qos: 0 | 1;
    try {
      qos = this.#t.qos(undefined, "Cannot announce devices");
    } catch (error) {
      this.dispatchEvent(new CustomEvent("error", { detail: error }));
      return;
    }
    for (const { name, type } of list) {
      const settle = this.#devices.announce(name, type);
      this.#t.send("device connect", GatewayTopics.connect, announcement(name, type), qos)
        .catch((error: Error) => {
          this.#s.logger.warn("Cannot announce a device again", {
            device: name,
            error: error.message,
          });
          this.dispatchEvent(new CustomEvent("error", { detail: error }));
        })
        .finally(settle);
    }
    this.#s.logger.info("Announced the gateway's devices again", { devices: list.length });
    this.dispatchEvent(new CustomEvent("deviceannounce", { detail: list.map((d) => d.name) }));
  }
}

function announcement(device: string, type: string | undefined): Record<string, string> {
  return type === undefined ? { device } : { device, type };
}
