/**
 * Shared setup of the independent ThingsBoard-role scenario suite
 * (`tb_role_*_test.ts`): a real Mosquitto broker, an MQTT.js client playing
 * ThingsBoard's side of the device MQTT API on it (`TbPeer`), a fixture that
 * makes `TBDeviceMqttClient`s and closes everything (`withTb`), and the matrix
 * of protocol versions and engines the tests run on.
 *
 * Written from the device API specification and the public docs only.
 *
 * @module
 */

import mqtt from "mqtt";
import type { MqttClient as MqttJsClient } from "mqtt";
import { TBDeviceMqttClient, type TBDeviceMqttClientOptions } from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_mosquitto.ts";

export const ME = "v1/devices/me";
export const LIMITS_ID = 2_147_483_647;
export const DEFAULT_LIMITS = {
  maxPayloadSize: 65_536,
  maxInflightMessages: 100,
  rateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
};

export interface Variant {
  protocolVersion: 4 | 5;
  engine: "ts" | "wasm";
  label: string;
}

export const V5_WASM: Variant = { protocolVersion: 5, engine: "wasm", label: "[MQTT 5, wasm]" };
export const V4_WASM: Variant = { protocolVersion: 4, engine: "wasm", label: "[MQTT 3.1.1, wasm]" };
export const V5_TS: Variant = { protocolVersion: 5, engine: "ts", label: "[MQTT 5, ts]" };
export const V4_TS: Variant = { protocolVersion: 4, engine: "ts", label: "[MQTT 3.1.1, ts]" };

export const delay = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

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
    await delay(10);
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

let tokenCounter = 0;
export const newToken = () => `TB_TOKEN_${Date.now().toString(36)}_${++tokenCounter}`;

/** A message the ThingsBoard-role peer received. */
export interface Msg {
  topic: string;
  text: string;
  json: unknown;
  qos: number;
}

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function idOf(topic: string, prefix: string): number | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/** The MQTT.js side playing ThingsBoard on the broker. */
export class TbPeer {
  readonly client: MqttJsClient;
  readonly received: Msg[] = [];
  /** The reply to `getSessionLimits`; `false` ignores the request. */
  limits: unknown = DEFAULT_LIMITS;
  /** Extra responders, run on every received message. */
  readonly responders: ((m: Msg) => void)[] = [];

  private constructor(client: MqttJsClient) {
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      const text = new TextDecoder().decode(payload);
      const m: Msg = { topic, text, json: parse(text), qos: packet.qos };
      this.received.push(m);
      const id = idOf(topic, `${ME}/rpc/request/`);
      const method = (m.json as { method?: unknown } | undefined)?.method;
      if (id !== undefined && method === "getSessionLimits" && this.limits !== false) {
        this.publish(`${ME}/rpc/response/${id}`, this.limits).catch(() => {});
      }
      for (const r of this.responders) r(m);
    });
    client.on("error", () => {});
  }

  /** Connects and subscribes to everything a device sends (No Local: not our own messages). */
  static async start(
    port: number,
    options: { clientId?: string; persistent?: boolean } = {},
  ): Promise<TbPeer> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: options.clientId ?? `tb-peer-${crypto.randomUUID().slice(0, 8)}`,
      clean: !options.persistent,
      ...(options.persistent ? { properties: { sessionExpiryInterval: 3600 } } : {}),
      reconnectPeriod: options.persistent ? 100 : 0,
      connectTimeout: 5000,
      keepalive: 30,
    });
    const peer = new TbPeer(client);
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    await client.subscribeAsync({
      [`${ME}/#`]: { qos: 1, nl: true },
      "/provision/request": { qos: 1, nl: true },
    });
    return peer;
  }

  publish(topic: string, body: unknown, qos: 0 | 1 = 1): Promise<unknown> {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    return this.client.publishAsync(topic, payload, { qos });
  }

  /** What the device sent, without the background `getSessionLimits` requests. */
  traffic(): Msg[] {
    return this.received.filter((m) =>
      !(m.topic.startsWith(`${ME}/rpc/request/`) &&
        (m.json as { method?: unknown } | undefined)?.method === "getSessionLimits")
    );
  }

  on(topic: string): Msg[] {
    return this.traffic().filter((m) => m.topic === topic);
  }

  onPrefix(prefix: string): Msg[] {
    return this.traffic().filter((m) => m.topic.startsWith(prefix));
  }

  limitsRequests(): Msg[] {
    return this.received.filter((m) =>
      m.topic.startsWith(`${ME}/rpc/request/`) &&
      (m.json as { method?: unknown } | undefined)?.method === "getSessionLimits"
    );
  }

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

export interface Fixture {
  broker: Mosquitto;
  peer: TbPeer;
  token: string;
  options: TBDeviceMqttClientOptions;
  /** Creates a device client (closed by the fixture). */
  device(extra?: Partial<TBDeviceMqttClientOptions>): TBDeviceMqttClient;
}

/** Runs `fn` with a broker, a connected peer and a device-client factory; closes everything. */
export async function withTb(variant: Variant, fn: (f: Fixture) => Promise<void>): Promise<void> {
  await using broker = await startMosquitto();
  const peer = await TbPeer.start(broker.port);
  const devices: TBDeviceMqttClient[] = [];
  const token = newToken();
  const options: TBDeviceMqttClientOptions = {
    host: "127.0.0.1",
    port: broker.port,
    accessToken: token,
    protocolVersion: variant.protocolVersion,
    engine: variant.engine,
    fallback: false,
    reconnect: { initialDelay: 100, maxDelay: 400 },
    connectTimeout: 3000,
    requestTimeout: 3000,
  };
  try {
    await fn({
      broker,
      peer,
      token,
      options,
      device(extra = {}) {
        const c = new TBDeviceMqttClient({ ...options, ...extra } as TBDeviceMqttClientOptions);
        devices.push(c);
        return c;
      },
    });
  } finally {
    for (const d of devices) await d.disconnect({ timeout: 1000 }).catch(() => {});
    await peer.close();
  }
}

/** A responder answering attribute requests from a store of client and shared attributes. */
export function attributeStore(
  peer: TbPeer,
  store: { client: Record<string, unknown>; shared: Record<string, unknown> },
  ignore: (req: { clientKeys?: string; sharedKeys?: string }) => boolean = () => false,
): void {
  peer.responders.push((m) => {
    const id = idOf(m.topic, `${ME}/attributes/request/`);
    if (id === undefined) return;
    const req = m.json as { clientKeys?: string; sharedKeys?: string };
    if (ignore(req)) return;
    const pick = (scope: Record<string, unknown>, keys: string | undefined) => {
      if (keys === undefined) return undefined;
      const out: Record<string, unknown> = {};
      for (const k of keys.split(",")) if (k in scope) out[k] = scope[k];
      return Object.keys(out).length > 0 ? out : undefined;
    };
    const body: Record<string, unknown> = {};
    const c = pick(store.client, req.clientKeys);
    const s = pick(store.shared, req.sharedKeys);
    if (c) body.client = c;
    if (s) body.shared = s;
    peer.publish(`${ME}/attributes/response/${id}`, body).catch(() => {});
  });
}

export function freeLoopbackPort(): number {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (l.addr as Deno.NetAddr).port;
  l.close();
  return port;
}

export function isTimeout(e: unknown): boolean {
  return e instanceof DOMException && e.name === "TimeoutError";
}

// ---------------------------------------------------------------------------
// The matrix

export const FULL = [V5_WASM, V4_WASM, V4_TS];
export const SUBSET = [V5_TS];
