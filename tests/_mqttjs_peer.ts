/**
 * A generic MQTT.js recording peer for the independent scenario suites that play
 * ThingsBoard's side on a real Mosquitto broker (`_tb_role.ts`,
 * `_gateway_independent.ts`): it subscribes to the given filters with No Local
 * (never its own messages), records what it receives, answers the device's
 * `getSessionLimits` requests and publishes what ThingsBoard would push. Also the
 * small polling helpers those suites share and the protocol/engine `Variant`.
 *
 * Written from the device API specification and the public docs only.
 *
 * @module
 */

import mqtt from "mqtt";
import type { MqttClient as MqttJsClient } from "mqtt";

/** The device API topic prefix. */
export const ME = "v1/devices/me";

/** Prefix of the topics a device sends client-side RPC requests on. */
const RPC_REQUEST = `${ME}/rpc/request/`;

/** A protocol level and engine to run a scenario with. */
export interface Variant {
  protocolVersion: 4 | 5;
  engine: "ts" | "wasm";
  label: string;
}

export const delay = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Polls `probe` until it returns something other than `undefined`/`false`. */
export async function until<T>(
  probe: () => T | undefined | false,
  what: string,
  timeout = 5000,
): Promise<T> {
  const end = Date.now() + timeout;
  for (;;) {
    const v = probe();
    if (v !== undefined && v !== false) return v as T;
    if (Date.now() > end) throw new Error(`Timed out after ${timeout} ms waiting for ${what}`);
    await delay(5);
  }
}

/** Awaits `p` but fails after `ms` (and clears its timer). */
export async function within<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  try {
    return await Promise.race([
      p,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} did not settle in ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** A message the ThingsBoard-role peer received. */
export interface Msg {
  topic: string;
  text: string;
  json: unknown;
  qos: number;
  /** The broker's DUP flag (a redelivery). */
  dup: boolean;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Whether `m` is a device's `getSessionLimits` client-side RPC request. */
export function isLimitsRequest(m: Msg): boolean {
  return m.topic.startsWith(RPC_REQUEST) &&
    (m.json as { method?: unknown } | undefined)?.method === "getSessionLimits";
}

/** How a {@linkcode MqttJsPeer} connects and what it does with what it receives. */
export interface PeerOptions {
  /** Topic filters subscribed to at QoS 1 with No Local. */
  filters: readonly string[];
  /** Client identifier (default: a random `tb-peer-…`). */
  clientId?: string | undefined;
  /** Keep the session on the broker (clean start off, one-hour session expiry). */
  persistent?: boolean;
  /** MQTT.js reconnect period in ms (default 0: no reconnect). */
  reconnectPeriod?: number;
  /** The initial `getSessionLimits` reply (default: none, requests are ignored). */
  limits?: unknown;
  /**
   * Record the broker's DUP redeliveries of messages already received in
   * `redelivered` instead of `received` (the broker-to-peer leg after a broker
   * restart, not the client's doing).
   */
  separateRedeliveries?: boolean;
}

/** The MQTT.js side playing ThingsBoard on the broker; see the module doc. */
export class MqttJsPeer {
  readonly client: MqttJsClient;
  readonly received: Msg[] = [];
  /** Broker redeliveries (DUP) of messages already received (with `separateRedeliveries`). */
  readonly redelivered: Msg[] = [];
  /** Extra responders, run on every received message. */
  readonly responders: ((m: Msg) => void)[] = [];
  /** The reply to `getSessionLimits`; `undefined` or `false` ignores the request. */
  limits: unknown;
  readonly #filters: readonly string[];

  /** Opens the connection and starts recording; call {@linkcode started} next. */
  protected constructor(port: number, options: PeerOptions) {
    this.limits = options.limits;
    this.#filters = options.filters;
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: options.clientId ?? `tb-peer-${crypto.randomUUID().slice(0, 8)}`,
      clean: !options.persistent,
      ...(options.persistent ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      reconnectPeriod: options.reconnectPeriod ?? 0,
      connectTimeout: 5000,
      keepalive: 30,
    });
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      const text = new TextDecoder().decode(payload);
      const m: Msg = { topic, text, json: parse(text), qos: packet.qos, dup: packet.dup };
      if (
        options.separateRedeliveries && m.dup &&
        this.received.some((r) => r.topic === topic && r.text === text)
      ) {
        this.redelivered.push(m);
        return;
      }
      this.received.push(m);
      if (isLimitsRequest(m) && this.limits !== undefined && this.limits !== false) {
        const id = topic.slice(RPC_REQUEST.length);
        this.publish(`${ME}/rpc/response/${id}`, this.limits).catch(() => {});
      }
      for (const r of this.responders) r(m);
    });
    client.on("error", () => {});
  }

  /** Waits for the connection and subscribes to the filters. */
  protected async started(): Promise<this> {
    await new Promise<void>((resolve, reject) => {
      this.client.once("connect", () => resolve());
      this.client.once("error", reject);
    });
    await this.client.subscribeAsync(
      Object.fromEntries(this.#filters.map((f) => [f, { qos: 1 as const, nl: true }])),
    );
    return this;
  }

  /** Publishes a JSON body (a string is sent as is). */
  publish(topic: string, body: unknown, qos: 0 | 1 = 1): Promise<unknown> {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    return this.client.publishAsync(topic, payload, { qos });
  }

  /** The received messages {@linkcode on} and {@linkcode waitOn} look at (here: all). */
  traffic(): Msg[] {
    return this.received;
  }

  /** Messages received on one topic, in order. */
  on(topic: string): Msg[] {
    return this.traffic().filter((m) => m.topic === topic);
  }

  /** Waits for `count` messages on `topic`; returns all of them so far. */
  waitOn(topic: string, count = 1, timeout = 5000): Promise<Msg[]> {
    return until(
      () => {
        const ms = this.on(topic);
        return ms.length >= count ? ms : undefined;
      },
      `${count} message(s) on ${topic} (have ${this.on(topic).length})`,
      timeout,
    );
  }

  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}
