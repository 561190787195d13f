/**
 * Checks of user input, done before anything is queued or sent. Private to
 * the client.
 *
 * @module
 */

import { encodedLength, isValidTopicFilter, isValidTopicName } from "../codec/mod.ts";
import type { ConnectPacket, PublishPacket, Subscription } from "../codec/types.ts";
import type { ReconnectOptions } from "./backoff.ts";
import type { MqttClientOptions, PublishOptions } from "./options.ts";
import type { TlsOptions } from "./transport.ts";

/** CONNECT fields fixed for the life of a client. */
export type MqttConnectFields = Omit<ConnectPacket, "protocolVersion">;

/** Options after defaults and checks. */
export interface ResolvedOptions {
  host: string;
  port: number;
  tls: TlsOptions | undefined;
  connect: MqttConnectFields;
  protocolVersion: 4 | 5;
  fallback: boolean;
  connectTimeout: number;
  reconnect: ReconnectOptions | undefined;
  maxInflight: number;
  maxPacketSize: number;
  onSessionStart: (() => void) | undefined;
}

function intIn(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot create MQTT client: ${name} ${value} is not an integer in ${min}..${max}`,
    );
  }
  return value;
}

/**
 * Applies defaults and validates client options.
 *
 * @param o Options.
 * @returns Resolved options.
 * @throws {TypeError | RangeError} Naming the bad option (never its value for credentials).
 */
export function resolveOptions(o: MqttClientOptions): ResolvedOptions {
  if (typeof o?.host !== "string" || o.host === "") {
    throw new TypeError("Cannot create MQTT client: host must be a non-empty string");
  }
  const tls = o.tls === true ? {} : o.tls === false || o.tls === undefined ? undefined : o.tls;
  if (tls && (tls.cert === undefined) !== (tls.key === undefined)) {
    throw new TypeError(
      "Cannot create MQTT client: a TLS client certificate needs both cert and key",
    );
  }
  if (tls && tls.cert !== undefined && tls.serverName !== undefined) {
    throw new TypeError(
      "Cannot create MQTT client: tls.serverName cannot be combined with a client certificate",
    );
  }
  const port = intIn("port", o.port ?? (tls ? 8883 : 1883), 1, 65535);
  const protocolVersion = o.protocolVersion ?? 5;
  if (protocolVersion !== 4 && protocolVersion !== 5) {
    throw new RangeError(
      `Cannot create MQTT client: protocolVersion ${protocolVersion} is not 4 or 5`,
    );
  }
  const keepalive = intIn("keepalive", o.keepalive ?? 60, 0, 65535);
  const connectTimeout = o.connectTimeout ?? 10_000;
  if (!(connectTimeout > 0)) {
    throw new RangeError("Cannot create MQTT client: connectTimeout must be > 0");
  }
  const maxInflight = intIn("maxInflight", o.maxInflight ?? 100, 1, 65535);
  const maxPacketSize = intIn("maxPacketSize", o.maxPacketSize ?? 268_435_460, 16, 268_435_460);
  if (o.clientId !== undefined && typeof o.clientId !== "string") {
    throw new TypeError("Cannot create MQTT client: clientId must be a string");
  }
  if (o.username !== undefined && typeof o.username !== "string") {
    throw new TypeError("Cannot create MQTT client: username must be a string");
  }
  if (
    o.password !== undefined && typeof o.password !== "string" &&
    !(o.password instanceof Uint8Array)
  ) {
    throw new TypeError("Cannot create MQTT client: password must be a string or a Uint8Array");
  }
  if (protocolVersion === 4 && o.password !== undefined && o.username === undefined) {
    // [MQTT-3.1.2-22] of MQTT 3.1.1 (MQTT 5 allows a password alone).
    throw new TypeError(
      "Cannot create MQTT client: MQTT 3.1.1 sends a password only with a username",
    );
  }
  const connect: MqttConnectFields = {
    type: "connect",
    clientId: o.clientId ?? "",
    clean: true,
    keepalive,
    ...(o.username !== undefined ? { username: o.username } : {}),
    ...(o.password !== undefined
      ? {
        password: typeof o.password === "string"
          ? new TextEncoder().encode(o.password)
          : o.password,
      }
      : {}),
  };
  try {
    // Strings must be well-formed UTF-8 without U+0000, fields at most 64 KiB [MQTT-1.5.4-1..2].
    encodedLength({ ...connect, protocolVersion }, { protocolVersion });
  } catch (e) {
    const error = e as Error;
    const message = error.message.replace(/^Cannot encode CONNECT/, "Cannot create MQTT client");
    throw error instanceof RangeError ? new RangeError(message) : new TypeError(message);
  }
  const reconnect = o.reconnect === false
    ? undefined
    : o.reconnect === true || o.reconnect === undefined
    ? {}
    : o.reconnect;
  return {
    host: o.host,
    port,
    tls,
    connect,
    protocolVersion,
    fallback: o.fallback ?? true,
    connectTimeout,
    reconnect,
    maxInflight,
    maxPacketSize,
    onSessionStart: o.onSessionStart,
  };
}

let lastValidTopic = "\u0000"; // never a valid topic name
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Whether `bytes` are well-formed UTF-8 (checked only for payloads marked as UTF-8). */
function isUtf8(bytes: Uint8Array): boolean {
  try {
    strictUtf8.decode(bytes);
    return true;
  } catch {
    return false;
  }
}

/**
 * Upper bound of the encoded size of a PUBLISH without properties (a UTF-16
 * code unit is at most 3 UTF-8 bytes; 16 covers the fixed header, topic
 * length, packet identifier and an empty property block), so the exact size
 * is computed only for packets near the limit.
 */
export function publishSizeBound(packet: Pick<PublishPacket, "topic" | "payload">): number {
  return packet.topic.length * 3 + packet.payload.length + 16;
}

/**
 * Builds and checks a PUBLISH from user input; the server's limits are
 * checked by the outbox (`checkSendable`).
 *
 * @param topic Topic name.
 * @param payload Payload.
 * @param options QoS, retain, properties.
 * @returns The packet (without packet identifier).
 * @throws {TypeError} For a bad topic, payload or option.
 * @throws {RangeError} For QoS 2.
 */
export function buildPublish(
  topic: string,
  payload: Uint8Array,
  options: PublishOptions | undefined,
): PublishPacket {
  if (topic !== lastValidTopic) {
    if (typeof topic !== "string" || !isValidTopicName(topic)) {
      throw new TypeError(
        `Cannot publish: "${String(topic)}" is not a valid topic name; ` +
          "use a non-empty name without the wildcards + and # or U+0000",
      );
    }
    lastValidTopic = topic; // one-entry cache: telemetry goes to the same topic again and again
  }
  if (!(payload instanceof Uint8Array)) {
    throw new TypeError("Cannot publish: payload must be a Uint8Array");
  }
  const qos = options?.qos ?? 0;
  if (qos !== 0 && qos !== 1) {
    if ((qos as number) === 2) {
      throw new RangeError(
        "Cannot publish with QoS 2: this client supports QoS 0 and 1 (ThingsBoard has no QoS 2)",
      );
    }
    throw new TypeError(`Cannot publish: qos ${String(qos)} is not 0 or 1`);
  }
  // QoS 1 packets get a placeholder id (set when sent) so every packet keeps one shape.
  const retain = options?.retain ?? false;
  const packet: PublishPacket = qos === 0
    ? { type: "publish", topic, payload, qos, retain, dup: false }
    : { type: "publish", topic, payload, qos, retain, dup: false, packetId: 0 };
  const props = options?.properties;
  if (props !== undefined) {
    if (props.topicAlias !== undefined) {
      // The server's Topic Alias Maximum bounds aliases [MQTT-3.3.2-9]; this client sends none.
      throw new TypeError(
        "Cannot publish: the topicAlias property is not supported (the full topic name is sent)",
      );
    }
    if (props.subscriptionIdentifiers !== undefined) {
      throw new TypeError(
        "Cannot publish: a client may not send subscriptionIdentifiers in a PUBLISH",
      ); // [MQTT-3.3.4-6]
    }
    if (props.payloadFormatIndicator === true && !isUtf8(payload)) {
      throw new TypeError(
        "Cannot publish: payloadFormatIndicator says UTF-8 but the payload is not well-formed UTF-8",
      );
    }
    packet.properties = props;
  }
  return packet;
}

/**
 * Checks SUBSCRIBE entries.
 *
 * @param subscriptions Entries.
 * @returns Copies of the entries.
 * @throws {TypeError} For an empty list or an invalid topic filter.
 * @throws {RangeError} For QoS 2.
 */
export function checkSubscriptions(subscriptions: Subscription[]): Subscription[] {
  if (!Array.isArray(subscriptions) || subscriptions.length === 0) {
    throw new TypeError("Cannot subscribe: at least one subscription is required");
  }
  return subscriptions.map((s) => {
    checkFilter("subscribe", s?.topicFilter);
    if (s.noLocal === true && s.topicFilter.startsWith(SHARE)) {
      throw new TypeError(
        `Cannot subscribe to "${s.topicFilter}": No Local is not allowed on a shared subscription`,
      ); // [MQTT-3.8.3-4]
    }
    for (const flag of ["noLocal", "retainAsPublished"] as const) {
      if (s[flag] !== undefined && typeof s[flag] !== "boolean") {
        throw new TypeError(`Cannot subscribe to "${s.topicFilter}": ${flag} must be a boolean`);
      }
    }
    if (s.retainHandling !== undefined && ![0, 1, 2].includes(s.retainHandling)) {
      throw new RangeError(
        `Cannot subscribe to "${s.topicFilter}": retainHandling ${
          String(s.retainHandling)
        } is not 0, 1 or 2`,
      );
    }
    if (s.qos !== 0 && s.qos !== 1) {
      if (s.qos === 2) {
        throw new RangeError(`Cannot subscribe to "${s.topicFilter}" with QoS 2: use QoS 0 or 1`);
      }
      throw new TypeError(
        `Cannot subscribe to "${s.topicFilter}": qos ${String(s.qos)} is not 0 or 1`,
      );
    }
    return { ...s };
  });
}

/**
 * Checks UNSUBSCRIBE topic filters.
 *
 * @param topicFilters Filters.
 * @returns A copy.
 * @throws {TypeError} For an empty list or an invalid filter.
 */
export function checkTopicFilters(topicFilters: string[]): string[] {
  if (!Array.isArray(topicFilters) || topicFilters.length === 0) {
    throw new TypeError("Cannot unsubscribe: at least one topic filter is required");
  }
  for (const f of topicFilters) checkFilter("unsubscribe", f);
  return [...topicFilters];
}

const SHARE = "$share/";

/** Checks a topic filter, including the form of a shared subscription. */
function checkFilter(verb: "subscribe" | "unsubscribe", f: unknown): asserts f is string {
  if (typeof f !== "string" || !isValidTopicFilter(f) || (f.startsWith(SHARE) && !isShare(f))) {
    throw new TypeError(
      `Cannot ${verb}: "${String(f)}" is not a valid topic filter; ` +
        'a filter is non-empty, uses "+" only as a whole level and "#" only as the whole last one',
    );
  }
}

/**
 * `$share/{ShareName}/{filter}`: a ShareName of at least one character
 * without "/", "+" or "#", then a topic filter [MQTT-4.8.2-1] [MQTT-4.8.2-2].
 */
function isShare(f: string): boolean {
  const end = f.indexOf("/", SHARE.length);
  return end > SHARE.length && end < f.length - 1 && !/[+#]/.test(f.slice(SHARE.length, end));
}
