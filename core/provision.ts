/**
 * Device provisioning: building the request and running it over a separate,
 * short-lived provision-only MQTT connection.
 *
 * @module
 */

import {
  ConnectionClosedError,
  type Logger,
  MqttClient,
  type MqttClientOptions,
  type TlsOptions,
} from "./mqtt/mod.ts";
import { timeoutError } from "./mqtt/_dom_errors.ts";
import type { PublishPacket } from "./codec/types.ts";
import { InvalidMessageError, ProvisionError } from "./client/errors.ts";
import { Topics } from "./client/topics.ts";
import { resolveEngine } from "./client/options.ts";
import type { JsonValue } from "./payload.ts";
import { isObject } from "./client/_json.ts";

/**
 * The JSON body of a provisioning request, as ThingsBoard reads it.
 *
 * @example
 * ```ts
 * import type { ProvisionRequest } from "@tbwasm/sdk";
 * const r: ProvisionRequest = { provisionDeviceKey: "K", provisionDeviceSecret: "S", deviceName: "d1" };
 * ```
 */
export interface ProvisionRequest {
  /** The device profile's provision key. */
  provisionDeviceKey: string;
  /** The device profile's provision secret. */
  provisionDeviceSecret: string;
  /** Name of the device to create (ThingsBoard generates one when absent). */
  deviceName?: string;
  /** Credentials the device wants; ThingsBoard generates an access token when absent. */
  credentialsType?: "ACCESS_TOKEN" | "MQTT_BASIC" | "X509_CERTIFICATE";
  /** Requested access token (`ACCESS_TOKEN`). */
  token?: string;
  /** Requested MQTT client id (`MQTT_BASIC`). */
  clientId?: string;
  /** Requested MQTT user name (`MQTT_BASIC`). */
  username?: string;
  /** Requested MQTT password (`MQTT_BASIC`). */
  password?: string;
  /** X.509 certificate (PEM) or its hash (`X509_CERTIFICATE`). */
  hash?: string;
  /** Create the device as a gateway. */
  gateway?: boolean;
}

/**
 * The optional parts of a provisioning request, as
 * {@linkcode TBDeviceMqttClient.getProvisionRequest} takes them. Give at most
 * one kind of credentials: `accessToken`, or `clientId`/`username`/`password`,
 * or `hash`.
 *
 * @example
 * ```ts
 * import type { ProvisionRequestOptions } from "@tbwasm/sdk";
 * const o: ProvisionRequestOptions = { deviceName: "meter-7", username: "meter7", password: "pw" };
 * ```
 */
export interface ProvisionRequestOptions {
  /** Name of the device to create. */
  deviceName?: string;
  /** Access token the device wants (credentials type `ACCESS_TOKEN`). */
  accessToken?: string;
  /** MQTT client id the device wants (credentials type `MQTT_BASIC`). */
  clientId?: string;
  /** MQTT user name the device wants (credentials type `MQTT_BASIC`). */
  username?: string;
  /** MQTT password the device wants (credentials type `MQTT_BASIC`). */
  password?: string;
  /** X.509 certificate (PEM) or hash (credentials type `X509_CERTIFICATE`). */
  hash?: string;
  /** Create the device as a gateway. @default {false} */
  gateway?: boolean;
}

/**
 * Credentials ThingsBoard issued, shaped to spread into
 * {@linkcode TBDeviceMqttClientOptions}.
 *
 * @example
 * ```ts
 * import type { ProvisionedCredentials } from "@tbwasm/sdk";
 * const c: ProvisionedCredentials = { credentialsType: "ACCESS_TOKEN", accessToken: "abc" };
 * ```
 */
export type ProvisionedCredentials =
  | { credentialsType: "ACCESS_TOKEN"; accessToken: string }
  | { credentialsType: "MQTT_BASIC"; clientId?: string; username?: string; password?: string }
  | { credentialsType: "X509_CERTIFICATE"; certificate: string };

/**
 * Options of {@linkcode TBDeviceMqttClient.provision}.
 *
 * @example
 * ```ts
 * import type { ProvisionOptions } from "@tbwasm/sdk";
 * const o: ProvisionOptions = { timeout: 5000, tls: { caCerts: ["-----BEGIN CERTIFICATE-----\n..."] } };
 * ```
 */
export interface ProvisionOptions {
  /** TLS (server verification on; `true` = system roots). @default {false} */
  tls?: boolean | TlsOptions;
  /** Time for the whole exchange (connect, request, response), ms. @default {10000} */
  timeout?: number;
  /** Aborts the exchange. */
  signal?: AbortSignal;
  /** MQTT protocol level (5 falls back to 4 when refused). @default {5} */
  protocolVersion?: 4 | 5;
  /** Codec engine. @default {"wasm"} */
  engine?: "ts" | "wasm";
  /** Logger. */
  logger?: Logger;
  /** Transport factory (tests). */
  transport?: MqttClientOptions["transport"];
}

function optionalString(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "string") {
    throw new TypeError(`Cannot build provision request: ${name} must be a string`);
  }
  return value;
}

/**
 * Builds a provisioning request with every option of the seed SDK.
 *
 * @param provisionDeviceKey The device profile's provision key.
 * @param provisionDeviceSecret The device profile's provision secret.
 * @param options Device name, wanted credentials, gateway flag.
 * @returns The request body.
 * @throws {TypeError} when key or secret are empty or not strings, an option
 * has the wrong type, or credentials of different kinds are combined.
 *
 * @example
 * ```ts
 * import { getProvisionRequest } from "@tbwasm/sdk";
 * const req = getProvisionRequest("KEY", "SECRET", { deviceName: "d1", accessToken: "wanted-token" });
 * // { provisionDeviceKey: "KEY", provisionDeviceSecret: "SECRET", deviceName: "d1",
 * //   credentialsType: "ACCESS_TOKEN", token: "wanted-token" }
 * ```
 */
export function getProvisionRequest(
  provisionDeviceKey: string,
  provisionDeviceSecret: string,
  options: ProvisionRequestOptions = {},
): ProvisionRequest {
  for (const [name, value] of [["key", provisionDeviceKey], ["secret", provisionDeviceSecret]]) {
    if (typeof value !== "string" || value === "") {
      throw new TypeError(
        `Cannot build provision request: the provision ${name} must be a non-empty string`,
      );
    }
  }
  const request: ProvisionRequest = { provisionDeviceKey, provisionDeviceSecret };
  const deviceName = optionalString(options.deviceName, "deviceName");
  if (deviceName !== undefined) request.deviceName = deviceName;
  const token = optionalString(options.accessToken, "accessToken");
  const clientId = optionalString(options.clientId, "clientId");
  const username = optionalString(options.username, "username");
  const password = optionalString(options.password, "password");
  const hash = optionalString(options.hash, "hash");
  const basic = clientId !== undefined || username !== undefined || password !== undefined;
  const kinds = [token !== undefined, basic, hash !== undefined].filter(Boolean).length;
  if (kinds > 1) {
    throw new TypeError(
      "Cannot build provision request: give one kind of credentials (accessToken, or clientId/username/password, or hash)",
    );
  }
  if (token !== undefined) {
    request.credentialsType = "ACCESS_TOKEN";
    request.token = token;
  } else if (basic) {
    request.credentialsType = "MQTT_BASIC";
    if (clientId !== undefined) request.clientId = clientId;
    if (username !== undefined) request.username = username;
    if (password !== undefined) request.password = password;
  } else if (hash !== undefined) {
    request.credentialsType = "X509_CERTIFICATE";
    request.hash = hash;
  }
  if (options.gateway !== undefined) {
    if (typeof options.gateway !== "boolean") {
      throw new TypeError("Cannot build provision request: gateway must be a boolean");
    }
    if (options.gateway) request.gateway = true;
  }
  return request;
}

/**
 * Interprets ThingsBoard's provisioning response.
 *
 * @param json The parsed response.
 * @returns The issued credentials.
 * @throws {ProvisionError} when the status is not `SUCCESS`.
 * @throws {InvalidMessageError} when the response has another shape.
 *
 * @example
 * ```ts
 * import { parseProvisionResponse } from "@tbwasm/sdk";
 * parseProvisionResponse({ status: "SUCCESS", credentialsType: "ACCESS_TOKEN", credentialsValue: "t0k" });
 * // { credentialsType: "ACCESS_TOKEN", accessToken: "t0k" }
 * ```
 */
export function parseProvisionResponse(json: JsonValue): ProvisionedCredentials {
  const bad = (why: string) =>
    new InvalidMessageError(`Cannot parse provisioning response: ${why}`, Topics.provisionResponse);
  if (!isObject(json) || typeof json.status !== "string") throw bad('no "status"');
  if (json.status !== "SUCCESS") {
    const errorMsg = typeof json.errorMsg === "string" ? json.errorMsg : undefined;
    throw new ProvisionError(json.status, errorMsg);
  }
  const value = json.credentialsValue;
  switch (json.credentialsType) {
    case "ACCESS_TOKEN":
      if (typeof value !== "string") throw bad("the access token is not a string");
      return { credentialsType: "ACCESS_TOKEN", accessToken: value };
    case "X509_CERTIFICATE":
      if (typeof value !== "string") throw bad("the certificate is not a string");
      return { credentialsType: "X509_CERTIFICATE", certificate: value };
    case "MQTT_BASIC": {
      if (!isObject(value)) throw bad("the MQTT credentials are not an object");
      const out: ProvisionedCredentials = { credentialsType: "MQTT_BASIC" };
      if (typeof value.clientId === "string") out.clientId = value.clientId;
      if (typeof value.userName === "string") out.username = value.userName;
      if (typeof value.password === "string") out.password = value.password;
      return out;
    }
    default:
      throw bad(`unknown credentials type ${JSON.stringify(json.credentialsType ?? null)}`);
  }
}

/**
 * Provisions a device: connects with user name `provision` (no password),
 * which ThingsBoard takes for a provision-only session, and a client id of
 * its own (so that provisioning devices behind one broker or proxy do not
 * take over each other's sessions), subscribes to `/provision/response`,
 * publishes the request to `/provision/request`, waits for the answer and
 * disconnects.
 *
 * @param host ThingsBoard's MQTT host.
 * @param port Its port (1883, or 8883 for TLS).
 * @param request A request from {@linkcode getProvisionRequest}.
 * @param options TLS, timeout, signal, protocol level, engine.
 * @returns The issued credentials.
 * @throws {ProvisionError} with ThingsBoard's `status` and `errorMsg`.
 * @throws {ConnectionRefusedError} when the server refuses the connection.
 * @throws {ConnectionClosedError} when the server closes it before answering.
 * @throws {DOMException} `TimeoutError` after `timeout`, `AbortError` when aborted.
 *
 * @example
 * ```ts ignore
 * import { provision, getProvisionRequest, TBDeviceMqttClient } from "@tbwasm/sdk";
 * const creds = await provision("127.0.0.1", 1883, getProvisionRequest("KEY", "SECRET", { deviceName: "d1" }));
 * if (creds.credentialsType === "ACCESS_TOKEN") {
 *   await using client = new TBDeviceMqttClient({ host: "127.0.0.1", accessToken: creds.accessToken });
 * }
 * ```
 */
export async function provision(
  host: string,
  port: number,
  request: ProvisionRequest,
  options: ProvisionOptions = {},
): Promise<ProvisionedCredentials> {
  if (!isObject(request) || typeof request.provisionDeviceKey !== "string") {
    throw new TypeError("Cannot provision device: request must come from getProvisionRequest()");
  }
  const payload = new TextEncoder().encode(JSON.stringify(request));
  const timeout = options.timeout ?? 10_000;
  const { codec } = resolveEngine(options.engine ?? "wasm");
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort(timeoutError(`Cannot provision device: no answer within ${timeout} ms`));
  }, timeout);
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort();
  const signal = controller.signal;
  const mqttOptions: MqttClientOptions = {
    host,
    port,
    username: "provision",
    clientId: `provision-${crypto.randomUUID().slice(0, 8)}`,
    reconnect: false,
    codec,
    protocolVersion: options.protocolVersion ?? 5,
  };
  if (options.tls !== undefined) mqttOptions.tls = options.tls;
  if (options.logger) mqttOptions.logger = options.logger;
  if (options.transport) mqttOptions.transport = options.transport;
  const client = new MqttClient(mqttOptions);
  const { promise: answer, resolve, reject } = Promise.withResolvers<Uint8Array>();
  answer.catch(() => {}); // awaited below; a failure may come first
  // Rejects with the failure (closed, aborted) while an earlier step waits.
  const failed = answer.then(() => new Promise<never>(() => {}));
  failed.catch(() => {});
  const onMessage = (event: Event) => {
    const packet = (event as CustomEvent<PublishPacket>).detail;
    if (packet.topic === Topics.provisionResponse) resolve(packet.payload);
  };
  const onDisconnect = (event: Event) => {
    const detail = (event as CustomEvent<{ reason: Error | undefined }>).detail;
    reject(
      new ConnectionClosedError(
        "Cannot provision device: the server closed the connection before answering",
        (detail?.reason as { reasonCode?: number } | undefined)?.reasonCode,
        { cause: detail?.reason },
      ),
    );
  };
  const onSignal = () => reject(signal.reason);
  try {
    signal.throwIfAborted();
    signal.addEventListener("abort", onSignal, { once: true });
    client.addEventListener("message", onMessage);
    await client.connect({ signal, timeout });
    client.addEventListener("disconnect", onDisconnect);
    const [granted] = await Promise.race([
      client.subscribe([{ topicFilter: Topics.provisionResponse, qos: 1 }], { signal }),
      failed,
    ]);
    if (granted === undefined || granted >= 0x80) {
      throw new ProvisionError(
        "FAILURE",
        `the server refused the subscription to ${Topics.provisionResponse}`,
      );
    }
    const published = client.publish(Topics.provisionRequest, payload, { qos: 1, signal });
    // A refused publish (PUBACK >= 0x80) is followed by the server's DISCONNECT: report that.
    published.catch((e) => reject(e));
    const bytes = await answer;
    let json: JsonValue;
    try {
      json = JSON.parse(new TextDecoder().decode(bytes));
    } catch {
      // No `cause`: the parser's message quotes the text around the fault, which may be
      // part of the issued credentials.
      throw new InvalidMessageError(
        "Cannot parse provisioning response: not JSON",
        Topics.provisionResponse,
      );
    }
    return parseProvisionResponse(json);
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
    signal.removeEventListener("abort", onSignal);
    client.removeEventListener("message", onMessage);
    client.removeEventListener("disconnect", onDisconnect);
    await client.disconnect({ timeout: 1000 }).catch(() => {});
  }
}
