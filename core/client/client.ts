/**
 * {@linkcode TBDeviceMqttClient}: the ThingsBoard device client.
 *
 * @module
 */

import type { ConnackPacket } from "../codec/types.ts";
import type { ClientState } from "../mqtt/mod.ts";
import {
  encodeAttributes,
  encodeJson,
  encodeTelemetry,
  type JsonValue,
  type KeyValues,
  type Telemetry,
  validateAttributes,
  validateTelemetry,
} from "../payload.ts";
import { splitAttributes, type SplitLimits, splitTelemetry } from "./split.ts";
import {
  getProvisionRequest,
  provision,
  type ProvisionedCredentials,
  type ProvisionOptions,
  type ProvisionRequest,
  type ProvisionRequestOptions,
} from "../provision.ts";
import {
  type AttributeCallback,
  type AttributesResponse,
  buildAttributeRequest,
} from "./attributes.ts";
import type { TBDeviceMqttClientEventMap } from "./events.ts";
import { TypedEventTarget } from "../mqtt/events.ts";
import type { SessionLimits } from "./limits.ts";
import type {
  AttributesResponseCallback,
  DataOptions,
  RequestAttributesOptions,
  RequestOptions,
  SendOptions,
  TBDeviceMqttClientOptions,
} from "./options.ts";
import type { WaitForMsgOptions } from "./poll.ts";
import { countDataPoints } from "./ratelimit.ts";
import { TelemetryBatch } from "../telemetry/mod.ts";
import { checkRequestId, type RpcHandler } from "./rpc.ts";
import { OtaManager } from "./_ota.ts";
import type {
  FirmwareAssignedCallback,
  OtaPackage,
  OtaType,
  UpdateFirmwareOptions,
} from "./ota.ts";
import { Session } from "./session.ts";
import { Topics } from "./topics.ts";

/**
 * A ThingsBoard device client over MQTT (5.0, falling back to 3.1.1):
 * telemetry, attributes, RPC both ways, claiming and provisioning, with
 * automatic reconnect, resubscription, an offline queue and session limits.
 * Events: `connect`, `disconnect`, `reconnecting`, `error`, `sessionlimits`
 * ({@linkcode TBDeviceMqttClientEventMap}).
 *
 * Attribute requests and RPC calls are correlated by ids that count up for
 * the life of the client (never reset by reconnects); a response that
 * arrives after its timeout is logged and dropped.
 *
 * @example Telemetry, attributes and RPC
 * ```ts ignore
 * import { TBDeviceMqttClient } from "@tbwasm/sdk";
 * await using client = new TBDeviceMqttClient({ host: "127.0.0.1", accessToken: "A1_TEST_TOKEN" });
 * client.setServerSideRpcRequestHandler(({ method }) => method === "ping" ? "pong" : undefined);
 * client.subscribeToAttribute("targetTemp", ({ values }) => console.log(values.targetTemp));
 * await client.connect();
 * await client.sendTelemetry({ temperature: 21.5 });
 * ```
 */
export class TBDeviceMqttClient extends TypedEventTarget<TBDeviceMqttClientEventMap> {
  #s: Session;
  #ota: OtaManager;

  /**
   * Creates a client; nothing happens on the network until {@linkcode TBDeviceMqttClient.connect}.
   *
   * @param options Host, credentials and behaviour.
   * @throws {TypeError} for a missing host, conflicting credentials, an unknown engine.
   * @throws {RangeError} for QoS 2 or a non-positive number.
   *
   * @example
   * ```ts
   * import { TBDeviceMqttClient } from "@tbwasm/sdk";
   * const client = new TBDeviceMqttClient({ host: "127.0.0.1", accessToken: "T", protocolVersion: 4 });
   * ```
   */
  constructor(options: TBDeviceMqttClientOptions) {
    super();
    this.#s = new Session(options, (type, detail) => {
      this.dispatchEvent(new CustomEvent(type, { detail }));
    });
    this.#ota = new OtaManager(this.#s);
  }

  /** Lifecycle state: `disconnected`, `connecting`, `connected`, `reconnecting` or `closing`. */
  get state(): ClientState {
    return this.#s.mqtt.state;
  }

  /** Whether the client is connected now. */
  get connected(): boolean {
    return this.#s.mqtt.connected;
  }

  /** The negotiated protocol level (meaningful once connected). */
  get protocolVersion(): 4 | 5 {
    return this.#s.mqtt.protocolVersion;
  }

  /** The limits ThingsBoard reported, once it answered `getSessionLimits`. */
  get sessionLimits(): SessionLimits | undefined {
    return this.#s.limits;
  }

  /** Largest message the client sends, bytes (65,536 until the server says otherwise). */
  get maxPayloadSize(): number {
    return this.#s.maxPayloadSize;
  }

  /**
   * Connects, subscribes to attribute updates, attribute responses,
   * server-side RPC and RPC responses (QoS 1), and asks for the session
   * limits in the background (a `getSessionLimits` RPC; the option
   * `sessionLimits: false` turns it off). A refused subscription is
   * reported through the `error` event and does not fail the connection.
   * After this the client reconnects by itself until
   * {@linkcode TBDeviceMqttClient.disconnect}.
   *
   * @param options Timeout (ms) and abort signal.
   * @returns The CONNACK.
   * @throws {ConnectionRefusedError} when ThingsBoard refuses, with its meaning
   * (e.g. "access token not accepted by ThingsBoard"; never the token).
   * @throws {ConnectionClosedError} when the server cannot be reached.
   * @throws {DOMException} `TimeoutError` or `AbortError`.
   *
   * @example
   * ```ts ignore
   * await client.connect({ timeout: 5000 });
   * ```
   */
  connect(options: RequestOptions = {}): Promise<ConnackPacket> {
    return this.#s.connect(options);
  }

  /**
   * Asks ThingsBoard for the session limits (an RPC answered by its
   * transport) and applies its `maxPayloadSize`; also done after every connect.
   *
   * @param options Timeout and signal.
   * @returns The limits.
   * @throws {DOMException} `TimeoutError` when nothing answers (e.g. a plain broker).
   * @throws {InvalidMessageError} when the answer is not a limits object.
   *
   * @example
   * ```ts ignore
   * const { maxPayloadSize } = await client.getSessionLimits({ timeout: 5000 });
   * ```
   */
  getSessionLimits(options: RequestOptions = {}): Promise<SessionLimits> {
    return this.#s.getSessionLimits(options);
  }

  /**
   * Disconnects after flushing what is queued and in flight; pending
   * attribute requests and RPC calls then fail with `ConnectionClosedError`.
   * Attribute subscriptions and the RPC handler stay for a later `connect()`.
   *
   * @param options `timeout` of the flush, ms.
   *
   * @example
   * ```ts ignore
   * await client.disconnect();
   * ```
   */
  disconnect(options: { timeout?: number } = {}): Promise<void> {
    return this.#s.disconnect(options);
  }

  /**
   * Same as {@linkcode TBDeviceMqttClient.disconnect}, for `await using`.
   *
   * @example
   * ```ts ignore
   * await using client = new TBDeviceMqttClient({ host: "127.0.0.1", accessToken: "T" });
   * ```
   */
  [Symbol.asyncDispose](): Promise<void> {
    return this.disconnect();
  }

  /**
   * Sends telemetry: an object (server time), `{ ts, values }`, or an array
   * of both. Resolves when ThingsBoard acknowledged it (QoS 1) or it was
   * written (QoS 0); while offline it waits in the bounded queue. Once
   * ThingsBoard reported rate limits, sending is paced by them.
   *
   * @param data The telemetry.
   * @param options QoS, abort signal, and `split` to send it in as many
   * messages as ThingsBoard's limits of one message require.
   * @throws {InvalidPayloadError} before sending, naming the bad key (NaN, undefined, …).
   * @throws {PayloadTooLargeError} before sending, when larger than the server accepts
   * (with `split`: when one value alone is).
   * @throws {TooManyDataPointsError} when it has more values than ThingsBoard's
   * `telemetryDataPoints` limit admits in one message: before sending once the limits are
   * known, else when they arrive (the message is withdrawn, not resent). With `split`, only
   * for data queued offline before the limits were known.
   * @throws {PublishError} when ThingsBoard refused it (MQTT 5 PUBACK reason code).
   *
   * @example
   * ```ts ignore
   * await client.sendTelemetry([{ ts: Date.now(), values: { temperature: 21.5 } }]);
   * await client.sendTelemetry(hundredsOfReadings, { split: true });
   * ```
   */
  async sendTelemetry(data: Telemetry, options?: DataOptions): Promise<void> {
    const qos = this.#s.qos(options?.qos);
    const topic = this.#s.options.telemetryTopic;
    if (options?.split) {
      validateTelemetry(data);
      const split = (limits: SplitLimits) => splitTelemetry(data, limits);
      return await this.#s.publishSplit("telemetry", topic, qos, options.signal, split);
    }
    const bytes = encodeTelemetry(data, this.#s.serializer);
    const points = () => countDataPoints(data);
    await this.#s.publish("telemetry", topic, bytes, qos, options?.signal, points);
  }

  /**
   * Sends a columnar {@linkcode TelemetryBatch} as one message
   * (`[{"ts":…,"values":{…}},…]`), serialized in one call (in wasm with the
   * `"wasm"` engine). The batch's values were checked when appended; an
   * empty batch sends nothing. The batch may be cleared once this resolves.
   *
   * @param batch The rows.
   * @param options QoS and abort signal.
   * @throws {PayloadTooLargeError} before sending, when larger than the server accepts.
   * @throws {PublishError} when ThingsBoard refused it.
   *
   * @example
   * ```ts ignore
   * import { TelemetryBatch } from "@tbwasm/sdk/telemetry";
   * const batch = new TelemetryBatch(["temperature", "humidity"]);
   * batch.append(Date.now(), [21.5, 40]);
   * await client.sendTelemetryBatch(batch);
   * batch.clear();
   * ```
   */
  async sendTelemetryBatch(batch: TelemetryBatch, options?: SendOptions): Promise<void> {
    if (!(batch instanceof TelemetryBatch)) {
      throw new TypeError("Cannot send telemetry batch: expected a TelemetryBatch");
    }
    const qos = this.#s.qos(options?.qos);
    if (batch.length === 0) return;
    const bytes = batch.encodeJson({ engine: this.#s.options.engine });
    const points = () => batch.length * batch.keys.length;
    const topic = this.#s.options.telemetryTopic;
    await this.#s.publish("telemetry", topic, bytes, qos, options?.signal, points);
  }

  /**
   * Sends client-side attributes (one object).
   *
   * @param data The attributes.
   * @param options QoS, abort signal, and `split` (see {@linkcode DataOptions}).
   * @throws {InvalidPayloadError | PayloadTooLargeError | TooManyDataPointsError} before sending.
   * @throws {PublishError} when ThingsBoard refused it.
   *
   * @example
   * ```ts ignore
   * await client.sendAttributes({ firmware: "1.2.0" });
   * ```
   */
  async sendAttributes(data: KeyValues, options?: DataOptions): Promise<void> {
    const qos = this.#s.qos(options?.qos);
    const topic = this.#s.options.attributesTopic;
    if (options?.split) {
      validateAttributes(data);
      const split = (limits: SplitLimits) => splitAttributes(data, limits);
      return await this.#s.publishSplit("attributes", topic, qos, options.signal, split);
    }
    const bytes = encodeAttributes(data, this.#s.serializer);
    const points = () => countDataPoints(data);
    await this.#s.publish("attributes", topic, bytes, qos, options?.signal, points);
  }

  /**
   * Requests client and shared attributes by key (with no keys: all). With a
   * callback (MicroPython style) it returns nothing and calls
   * `callback(response, error)` (with `dispatch: "poll"`, from the poll).
   *
   * @param options Keys, timeout, signal.
   * @param callback Optional `(response, error)` callback.
   * @returns Both scopes; a scope with nothing found is `{}`.
   * @throws {InvalidAttributeKeyError} before sending, for an empty key or one with a comma.
   * @throws {DOMException} `TimeoutError` (ThingsBoard sends nothing on a server error).
   * @throws {RangeError} before sending, for a timeout that is not a positive number
   * (`Infinity` waits for ever).
   *
   * @example
   * ```ts ignore
   * const { shared } = await client.requestAttributes({ sharedKeys: ["targetTemp"] });
   * ```
   */
  requestAttributes(options?: RequestAttributesOptions): Promise<AttributesResponse>;
  /**
   * The callback form, as in the MicroPython SDK: `callback(response, error)`
   * runs once with the answer or the failure (timeout, abort, bad keys).
   *
   * @param options Keys to request, timeout and signal.
   * @param callback Receives `(response, undefined)` or `(undefined, error)`.
   *
   * @example
   * ```ts ignore
   * client.requestAttributes({ sharedKeys: ["targetTemp"] }, (response, error) => {
   *   if (error) console.error(error.message);
   *   else console.log(response?.shared.targetTemp);
   * });
   * ```
   */
  requestAttributes(options: RequestAttributesOptions, callback: AttributesResponseCallback): void;
  requestAttributes(
    options: RequestAttributesOptions = {},
    callback?: AttributesResponseCallback,
  ): Promise<AttributesResponse> | void {
    let response: Promise<AttributesResponse>;
    try {
      const body = encodeJson(
        buildAttributeRequest(options),
        "attribute request",
        this.#s.serializer,
      );
      const table = this.#s.router.attributeRequests;
      const what = "Cannot request attributes";
      const topic = this.#s.options.topics.attributeRequest;
      response = this.#s.request(table, what, topic, body, options);
    } catch (error) {
      response = Promise.reject(error);
    }
    if (!callback) return response;
    const router = this.#s.router;
    const deliver = (r: AttributesResponse | undefined, e: Error | undefined) =>
      router.dispatch(() => router.guard("Attribute response callback", () => callback(r, e)));
    response.then((r) => deliver(r, undefined), (e: Error) => deliver(undefined, e));
  }

  /**
   * Subscribes to updates of one shared attribute, deletion included. The
   * subscription is local (ThingsBoard pushes all shared attributes) and
   * survives reconnects.
   *
   * @param key The attribute key.
   * @param callback Gets `{ values: { [key]: value }, deleted: [] }` or `{ values: {}, deleted: [key] }`.
   * @returns The subscription id.
   *
   * @example
   * ```ts ignore
   * const id = client.subscribeToAttribute("targetTemp", ({ values }) => console.log(values.targetTemp));
   * ```
   */
  subscribeToAttribute(key: string, callback: AttributeCallback): number {
    if (typeof key !== "string") throw new TypeError("Cannot subscribe: key must be a string");
    return this.#subscribe(key, callback);
  }

  /**
   * Subscribes to every shared-attribute update, deletions included.
   *
   * @param callback Gets each whole update.
   * @returns The subscription id.
   *
   * @example
   * ```ts ignore
   * client.subscribeToAllAttributes(({ values, deleted }) => console.log(values, deleted));
   * ```
   */
  subscribeToAllAttributes(callback: AttributeCallback): number {
    return this.#subscribe(undefined, callback);
  }

  #subscribe(key: string | undefined, callback: AttributeCallback): number {
    if (typeof callback !== "function") {
      throw new TypeError("Cannot subscribe: callback must be a function");
    }
    return this.#s.router.subscriptions.add(key, callback);
  }

  /**
   * Removes an attribute subscription.
   *
   * @param id The id from a subscribe call.
   * @returns `false` when there was no such subscription.
   *
   * @example
   * ```ts ignore
   * client.unsubscribeFromAttribute(id);
   * ```
   */
  unsubscribeFromAttribute(id: number): boolean {
    return this.#s.router.subscriptions.remove(id);
  }

  /**
   * Sets (or with `undefined` clears) the server-side RPC handler. What it
   * returns (or its Promise resolves to) is the reply; `undefined` means no
   * automatic reply (use {@linkcode TBDeviceMqttClient.sendRpcReply}); a
   * throw (or rejection) replies `{"error":"<message>"}`. Without a handler,
   * requests are logged and not answered.
   *
   * @param handler The handler.
   *
   * @example
   * ```ts ignore
   * client.setServerSideRpcRequestHandler(async ({ method, params }) => ({ method, params }));
   * ```
   */
  setServerSideRpcRequestHandler(handler: RpcHandler | undefined): void {
    if (handler !== undefined && typeof handler !== "function") {
      throw new TypeError("Cannot set RPC handler: handler must be a function");
    }
    this.#s.router.rpcHandler = handler;
  }

  /**
   * Replies to a server-side RPC.
   *
   * @param id The request id ({@linkcode RpcRequest.id}; a decimal string works too).
   * @param response Any JSON value.
   * @param options QoS.
   * @throws {TypeError} for an invalid id.
   * @throws {InvalidPayloadError | PayloadTooLargeError} before sending.
   *
   * @example
   * ```ts ignore
   * await client.sendRpcReply(request.id, { ok: true });
   * ```
   */
  async sendRpcReply(id: number | string, response: unknown, options?: SendOptions): Promise<void> {
    const topic = this.#s.options.topics.rpcResponse + checkRequestId(id);
    const qos = this.#s.qos(options?.qos);
    await this.#s.sendJson("RPC reply", topic, response, qos, options?.signal);
  }

  /**
   * Calls a client-side RPC (answered by ThingsBoard's rule chain).
   *
   * @param method The method.
   * @param params Any JSON value. @default {{}}
   * @param options Timeout and signal.
   * @returns The reply (its text when it is not JSON).
   * @throws {RpcError} when ThingsBoard answers `{"error":"…"}` (e.g. its own 60 s timeout).
   * @throws {DOMException} `TimeoutError` or `AbortError`.
   * @throws {RangeError} before sending, for a timeout that is not a positive number
   * (`Infinity` waits for ever).
   * @throws {InvalidPayloadError} before sending.
   *
   * @example
   * ```ts ignore
   * const reply = await client.sendRpcCall("getCurrentTime", {}, { timeout: 5000 });
   * ```
   */
  sendRpcCall(
    method: string,
    params: unknown = {},
    options: RequestOptions = {},
  ): Promise<JsonValue> {
    return this.#s.call(method, params, options);
  }

  /**
   * Lets a user claim this device with `secretKey` within `durationMs`
   * (ThingsBoard's default when omitted). Resolves on PUBACK.
   *
   * @param secretKey The secret the user enters.
   * @param options `durationMs` and QoS.
   * @throws {TypeError} for a non-string key or a bad duration.
   *
   * @example
   * ```ts ignore
   * await client.claimDevice("s3cr3t", { durationMs: 60_000 });
   * ```
   */
  async claimDevice(
    secretKey?: string,
    options: SendOptions & { durationMs?: number } = {},
  ): Promise<void> {
    const body: Record<string, unknown> = {};
    if (secretKey !== undefined) {
      if (typeof secretKey !== "string") {
        throw new TypeError("Cannot claim device: secretKey must be a string");
      }
      body.secretKey = secretKey;
    }
    const { durationMs } = options;
    if (durationMs !== undefined) {
      if (!Number.isSafeInteger(durationMs) || durationMs <= 0) {
        throw new TypeError("Cannot claim device: durationMs must be a positive integer");
      }
      body.durationMs = durationMs;
    }
    const qos = this.#s.qos(options.qos);
    await this.#s.sendJson("claim request", Topics.claim, body, qos, options.signal);
  }

  /**
   * Updates the firmware (or with `type: "software"` the software) over
   * ThingsBoard's OTA API: asks for the assigned package (`fw_title`,
   * `fw_version`, `fw_size`, `fw_checksum`, `fw_checksum_algorithm`),
   * compares it with the installed one, downloads it in chunks (a fresh
   * request id per update, each chunk with a timeout and retries), verifies
   * the checksum (MD5, SHA256/384/512, CRC32, MURMUR3_32/128) and reports
   * `fw_state` telemetry on the way: `DOWNLOADING`, `DOWNLOADED`,
   * `VERIFIED`, then with `onPackage` `UPDATING` and `UPDATED`, or `FAILED`
   * with `fw_error` (with `current_fw_title`/`current_fw_version`).
   * When the assigned package is the installed one it only reports
   * `UPDATED` (the report a device makes after rebooting into a new image).
   * Calls of the same type run one after another. Chunk requests go out at
   * QoS 0 and are sent again after a reconnect or a timeout.
   *
   * @param options Installed version, chunk size, timeouts, `onPackage`, signal.
   * @returns The verified package, or `undefined` when it is already installed.
   * @throws {OtaError} `NO_PACKAGE`, `SERVER_ERROR` (with ThingsBoard's text),
   * `TIMEOUT`, `CHECKSUM_MISMATCH`, `SIZE_MISMATCH`, `APPLY_FAILED`, …
   * @throws {RangeError} before sending, for a chunk size that is not a positive
   * integer or exceeds the server's maximum payload size, or a bad timeout.
   * @throws {DOMException} `AbortError` (the signal's reason) when aborted.
   *
   * @example
   * ```ts ignore
   * const pkg = await client.updateFirmware({
   *   currentTitle: "thermostat",
   *   currentVersion: "1.1.0",
   *   onPackage: (pkg) => Deno.writeFile("/var/lib/app/firmware.bin", pkg.data),
   * });
   * console.log(pkg ? `installed ${pkg.version}` : "up to date");
   * ```
   */
  updateFirmware(options: UpdateFirmwareOptions = {}): Promise<OtaPackage | undefined> {
    return this.#ota.update(options);
  }

  /**
   * Calls `callback` when ThingsBoard pushes a newly assigned package (a
   * shared-attribute update with `fw_title`/`fw_version`, or `sw_*`), not
   * when it is the installed one. Attribute responses never trigger it.
   * Remove it with {@linkcode TBDeviceMqttClient.unsubscribeFromAttribute}.
   *
   * @param callback Gets the package description; pass it to `updateFirmware({ package })`.
   * @param options `type`: firmware (default) or software.
   * @returns The attribute subscription id.
   *
   * @example
   * ```ts ignore
   * client.onFirmwareAssigned(async (info) => {
   *   await client.updateFirmware({ package: info, onPackage: (pkg) => flash(pkg.data) });
   * });
   * ```
   */
  onFirmwareAssigned(
    callback: FirmwareAssignedCallback,
    options: { type?: OtaType } = {},
  ): number {
    if (typeof callback !== "function") {
      throw new TypeError("Cannot watch firmware: callback must be a function");
    }
    const type = options.type ?? "firmware";
    if (type !== "firmware" && type !== "software") {
      throw new TypeError(`Cannot watch firmware: unknown type "${String(type)}"`);
    }
    return this.#ota.watch(callback, type);
  }

  /**
   * With `dispatch: "poll"`: runs the callbacks of every message that has
   * arrived (attribute updates, server-side RPC, callback-form responses).
   *
   * @returns How many messages were dispatched (always 0 with `"auto"`).
   *
   * @example
   * ```ts ignore
   * setInterval(() => client.checkForMsg(), 50);
   * ```
   */
  checkForMsg(): number {
    return this.#s.router.inbox.drain();
  }

  /**
   * With `dispatch: "poll"`: waits until a message arrives (or the timeout
   * passes, or the client disconnects) and dispatches what is queued.
   *
   * @param options Timeout (then it returns 0) and signal.
   * @returns How many messages were dispatched.
   * @throws {TypeError} with `dispatch: "auto"`.
   *
   * @example
   * ```ts ignore
   * while (client.state !== "disconnected") await client.waitForMsg({ timeout: 1000 });
   * ```
   */
  waitForMsg(options?: WaitForMsgOptions): Promise<number> {
    if (this.#s.options.dispatch !== "poll") {
      return Promise.reject(
        new TypeError(
          'Cannot wait for messages: the client uses dispatch "auto"; create it with dispatch: "poll"',
        ),
      );
    }
    return this.#s.router.inbox.wait(options);
  }

  /**
   * Builds a provisioning request ({@linkcode getProvisionRequest}).
   *
   * @param key The device profile's provision key.
   * @param secret Its provision secret.
   * @param options Device name, wanted credentials, gateway flag.
   * @returns The request.
   *
   * @example
   * ```ts
   * import { TBDeviceMqttClient } from "@tbwasm/sdk";
   * const req = TBDeviceMqttClient.getProvisionRequest("KEY", "SECRET", { deviceName: "d1" });
   * ```
   */
  static getProvisionRequest(
    key: string,
    secret: string,
    options?: ProvisionRequestOptions,
  ): ProvisionRequest {
    return getProvisionRequest(key, secret, options);
  }

  /**
   * Provisions a device over a separate short-lived connection ({@linkcode provision}).
   *
   * @param host ThingsBoard's host.
   * @param port Its MQTT port.
   * @param request From {@linkcode TBDeviceMqttClient.getProvisionRequest}.
   * @param options TLS (verified), timeout, signal.
   * @returns The issued credentials.
   * @throws {ProvisionError} with ThingsBoard's status and errorMsg.
   *
   * @example
   * ```ts ignore
   * const creds = await TBDeviceMqttClient.provision("127.0.0.1", 1883, req);
   * ```
   */
  static provision(
    host: string,
    port: number,
    request: ProvisionRequest,
    options?: ProvisionOptions,
  ): Promise<ProvisionedCredentials> {
    return provision(host, port, request, options);
  }
}
