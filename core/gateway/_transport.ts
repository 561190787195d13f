/**
 * The outbound side of the gateway client: QoS policy, serialization, size
 * check, publishing, and attribute requests correlated by id. Private.
 *
 * @module
 */

import { describeReasonCode } from "../mqtt/mod.ts";
import type { JsonObject } from "../payload.ts";
import type { AttributesResponse } from "../client/attributes.ts";
import { EchoFilter } from "../client/echo.ts";
import { countDataPoints } from "../client/ratelimit.ts";
import { Pacer } from "./_pacing.ts";
import { InvalidMessageError } from "../client/errors.ts";
import { checkSize, publishSize } from "../client/limits.ts";
import { checkTimeout, type RequestTable } from "../client/requests.ts";
import type { Session } from "../client/session.ts";
import type { DeviceDisconnectNotice } from "./events.ts";
import { attributeRequestBody, checkDeviceName, checkKeys, resolveValues } from "./messages.ts";
import type { GatewayAttributesRequest } from "./options.ts";
import { GatewayTopics } from "./topics.ts";

/** Publishing for one gateway client. */
export class Transport {
  #s: Session;
  /**
   * Our own messages on topics we subscribe to (attributes, RPC replies),
   * to recognize their echo from a plain MQTT 3.1.1 broker.
   */
  readonly echo: EchoFilter;

  /**
   * Wraps the device session the gateway runs on.
   *
   * @param session The session.
   * @param now Monotonic milliseconds.
   */
  /** Pacing by the gateway rate limits. */
  readonly pacer: Pacer;

  constructor(session: Session, now: () => number) {
    this.#s = session;
    this.echo = new EchoFilter(now);
    this.pacer = new Pacer(session.options.rateLimits, session.options.clock, session.logger);
  }

  /**
   * The QoS of a gateway message.
   *
   * @param qos Per-call QoS, or `undefined` for the client's.
   * @param what Start of the error message.
   * @returns 0 or 1.
   * @throws {RangeError} for QoS 2, and for QoS 0 on MQTT 5.
   */
  qos(qos: number | undefined, what: string): 0 | 1 {
    const q = this.#s.qos(qos);
    if (q === 0 && this.#s.mqtt.protocolVersion === 5) {
      throw new RangeError(
        `${what}: QoS 0 is refused with MQTT 5 (ThingsBoard answers QoS 0 gateway messages with a malformed-packet notice); use QoS 1`,
      );
    }
    return q;
  }

  /**
   * Serializes a validated body, checks its size and publishes it.
   *
   * @param what What is sent, for errors.
   * @param topic Topic.
   * @param body Validated JSON body.
   * @param qos QoS (the client's by default).
   * @param signal Stops waiting.
   * @param data The telemetry or attributes in `body`, counted for the rate limits.
   */
  async send(
    what: string,
    topic: string,
    body: unknown,
    qos: 0 | 1 = this.qos(undefined, `Cannot send ${what}`),
    signal?: AbortSignal,
    data?: object,
  ): Promise<void> {
    const bytes = this.#s.serializer(body);
    const mqtt = this.#s.mqtt;
    checkSize(
      what,
      publishSize(topic, bytes.length, qos, mqtt.protocolVersion),
      this.#s.maxPayloadSize,
    );
    if (this.pacer.active) {
      await this.pacer.wait(data === undefined ? undefined : countDataPoints(data), signal);
    }
    // Only a 3.1.1 connection echoes (MQTT 5 subscriptions use No Local); offline, the level
    // of the connection that will send the message is not known yet.
    const offline = !mqtt.connected;
    const sending = mqtt.publish(topic, bytes, signal ? { qos, signal } : { qos });
    if (
      (offline || mqtt.protocolVersion === 4) &&
      (topic === GatewayTopics.attributes || topic === GatewayTopics.rpc)
    ) {
      this.echo.track(topic, bytes, offline, sending); // its window starts at the PUBACK
    }
    await sending;
  }

  /**
   * The detail of a `devicedisconnect` event.
   *
   * @param device Device name.
   * @param reason MQTT 5 reason code.
   * @returns The notice.
   */
  notice(device: string, reason: number): DeviceDisconnectNotice {
    return { device, reason, description: describeReasonCode(reason, 5) };
  }

  /**
   * Requests attributes of one device, one request per scope asked for.
   *
   * @param table The correlation table.
   * @param device Device name.
   * @param options Keys, timeout, signal.
   * @returns Both scopes.
   */
  async requestAttributes(
    table: RequestTable<JsonObject>,
    device: string,
    options: GatewayAttributesRequest,
  ): Promise<AttributesResponse> {
    const what = "Cannot request attributes";
    const name = checkDeviceName(device, what);
    if (typeof options !== "object" || options === null) {
      throw new TypeError(`${what}: options must be an object`);
    }
    const { clientKeys, sharedKeys, signal } = options;
    if (clientKeys === undefined && sharedKeys === undefined) {
      throw new TypeError(`${what}: give clientKeys, sharedKeys or both`);
    }
    const client = clientKeys === undefined ? undefined : checkKeys(clientKeys, "clientKeys");
    const shared = sharedKeys === undefined ? undefined : checkKeys(sharedKeys, "sharedKeys");
    const timeout = checkTimeout(options.timeout ?? this.#s.options.requestTimeout, what);
    const qos = this.qos(undefined, what);
    signal?.throwIfAborted();
    const spec = { table, device: name, timeout, signal, qos };
    const [c, s] = await Promise.all([
      client ? this.#scope(spec, true, client) : {},
      shared ? this.#scope(spec, false, shared) : {},
    ]);
    return { client: c, shared: s };
  }

  async #scope(
    spec: {
      table: RequestTable<JsonObject>;
      device: string;
      timeout: number;
      signal: AbortSignal | undefined;
      qos: 0 | 1;
    },
    client: boolean,
    keys: readonly string[],
  ): Promise<JsonObject> {
    const { table, device } = spec;
    const id = table.allocate();
    const response = table.wait(id, {
      timeout: spec.timeout,
      signal: spec.signal,
      what: `Cannot request attributes of "${device}" (request ${id})`,
    });
    this.send(
      "attribute request",
      GatewayTopics.attributeRequest,
      attributeRequestBody(id, device, client, keys),
      spec.qos,
    )
      .catch((error) => table.reject(id, error));
    const json = await response;
    let values: JsonObject | undefined;
    try {
      values = resolveValues(keys, json);
    } catch (e) {
      throw new InvalidMessageError(
        `Cannot parse gateway attribute response: ${(e as Error).message}`,
        GatewayTopics.attributeResponse,
      );
    }
    if (values !== undefined) return values;
    // ThingsBoard found one of several keys and sent it as "value", without its key: ask per key.
    this.#s.logger.debug("Asking per key: a single value answered several keys", { device, id });
    const parts = await Promise.all(keys.map((key) => this.#scope(spec, client, [key])));
    return Object.assign({}, ...parts);
  }
}
