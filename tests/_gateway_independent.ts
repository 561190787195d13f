/**
 * Shared setup of the independent gateway suite (`gateway_independent_*_test.ts`):
 * a real Mosquitto broker, an MQTT.js client playing ThingsBoard's side of
 * the gateway MQTT API, and a factory of `TBGatewayMqttClient`s that closes
 * everything it made. Written from ThingsBoard's gateway API and the public
 * docs only.
 *
 * @module
 */

import mqtt from "mqtt";
import type { MqttClient as MqttJsClient } from "mqtt";
import { TBGatewayMqttClient, type TBGatewayMqttClientOptions } from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_mosquitto.ts";

/** The topics of ThingsBoard's gateway API, spelled out here (not imported). */
export const GW = {
  connect: "v1/gateway/connect",
  disconnect: "v1/gateway/disconnect",
  telemetry: "v1/gateway/telemetry",
  attributes: "v1/gateway/attributes",
  attributeRequest: "v1/gateway/attributes/request",
  attributeResponse: "v1/gateway/attributes/response",
  rpc: "v1/gateway/rpc",
  claim: "v1/gateway/claim",
} as const;

/** A protocol level and engine to run a scenario with. */
export interface Variant {
  protocolVersion: 4 | 5;
  engine: "ts" | "wasm";
  label: string;
}

export const V5: Variant = { protocolVersion: 5, engine: "wasm", label: "[MQTT 5, wasm]" };
export const V4: Variant = { protocolVersion: 4, engine: "ts", label: "[MQTT 3.1.1, ts]" };
export const VARIANTS: readonly Variant[] = [V5, V4];

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

/**
 * MQTT.js playing ThingsBoard: it sees everything the gateway publishes
 * (`v1/gateway/#`, `v1/devices/me/#`, with No Local so never its own
 * messages) and publishes what ThingsBoard would push. Its session persists
 * on the broker (which keeps it across a restart), so nothing the gateway
 * sends while the peer reconnects is lost to the test.
 */
export class TbPeer {
  readonly client: MqttJsClient;
  readonly received: Msg[] = [];
  /** Broker redeliveries (DUP) of messages already received. */
  readonly redelivered: Msg[] = [];
  /** Extra responders, run on every received message. */
  readonly responders: ((m: Msg) => void)[] = [];
  /** `getSessionLimits` reply, or `undefined` to ignore those requests. */
  limits: unknown = undefined;

  private constructor(client: MqttJsClient) {
    this.client = client;
    client.on("message", (topic, payload, packet) => {
      const text = new TextDecoder().decode(payload);
      const m: Msg = { topic, text, json: parse(text), qos: packet.qos, dup: packet.dup };
      // The broker re-sending us (DUP) what we already had after its own restart is the
      // broker-to-peer leg, not the gateway's doing: recorded apart.
      if (m.dup && this.received.some((r) => r.topic === topic && r.text === text)) {
        this.redelivered.push(m);
        return;
      }
      this.received.push(m);
      const method = (m.json as { method?: unknown } | undefined)?.method;
      const prefix = "v1/devices/me/rpc/request/";
      if (
        topic.startsWith(prefix) && method === "getSessionLimits" && this.limits !== undefined
      ) {
        const id = topic.slice(prefix.length);
        this.publish(`v1/devices/me/rpc/response/${id}`, this.limits).catch(() => {});
      }
      for (const r of this.responders) r(m);
    });
    client.on("error", () => {});
  }

  static async start(port: number): Promise<TbPeer> {
    const client = mqtt.connect(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      clientId: `tb-peer-${crypto.randomUUID().slice(0, 8)}`,
      clean: false,
      properties: { sessionExpiryInterval: 3600 },
      reconnectPeriod: 50,
      connectTimeout: 5000,
      keepalive: 30,
    });
    const peer = new TbPeer(client);
    await new Promise<void>((resolve, reject) => {
      client.once("connect", () => resolve());
      client.once("error", reject);
    });
    await client.subscribeAsync({
      "v1/gateway/#": { qos: 1, nl: true },
      "v1/devices/me/#": { qos: 1, nl: true },
    });
    return peer;
  }

  /** Publishes a JSON body (a string is sent as is). */
  publish(topic: string, body: unknown, qos: 0 | 1 = 1): Promise<unknown> {
    const payload = typeof body === "string" ? body : JSON.stringify(body);
    return this.client.publishAsync(topic, payload, { qos });
  }

  /** Messages received on one topic, in order. */
  on(topic: string): Msg[] {
    return this.received.filter((m) => m.topic === topic);
  }

  /** Everything received on the gateway topics, in order. */
  gatewayTraffic(): Msg[] {
    return this.received.filter((m) => m.topic.startsWith("v1/gateway/"));
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

/** A broker, the peer, and a gateway-client factory. */
export interface Fixture {
  broker: Mosquitto;
  peer: TbPeer;
  variant: Variant;
  /** Options of the factory's clients. */
  options: TBGatewayMqttClientOptions;
  /** Creates a gateway client (disconnected by the fixture). */
  gateway(extra?: Partial<TBGatewayMqttClientOptions>): TBGatewayMqttClient;
  /** Creates and connects a gateway client; records its `error` events in `errors`. */
  connected(
    extra?: Partial<TBGatewayMqttClientOptions>,
  ): Promise<{ gw: TBGatewayMqttClient; errors: Error[] }>;
}

/**
 * Runs `fn` with a Mosquitto broker (persistent, so that the peer's session
 * survives a restart), a connected peer and a gateway factory; closes all.
 *
 * @param variant Protocol level and engine of the gateway clients.
 * @param fn The scenario.
 */
export async function withBroker(
  variant: Variant,
  fn: (f: Fixture) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "tbwasm_gw_indep_" });
  const broker = await startMosquitto({
    extra: ["persistence true", `persistence_location ${dir}/`, "autosave_interval 0"],
  });
  const clients: TBGatewayMqttClient[] = [];
  let peer: TbPeer | undefined;
  try {
    peer = await TbPeer.start(broker.port);
    const options: TBGatewayMqttClientOptions = {
      host: "127.0.0.1",
      port: broker.port,
      accessToken: "GATEWAY_TOKEN",
      protocolVersion: variant.protocolVersion,
      engine: variant.engine,
      sessionLimits: false,
      connectTimeout: 3000,
      requestTimeout: 3000,
      reconnect: { initialDelay: 50, maxDelay: 200, jitter: 0 },
    };
    const gateway = (extra: Partial<TBGatewayMqttClientOptions> = {}) => {
      const gw = new TBGatewayMqttClient({ ...options, ...extra });
      clients.push(gw);
      return gw;
    };
    await fn({
      broker,
      peer,
      variant,
      options,
      gateway,
      connected: async (extra = {}) => {
        const gw = gateway(extra);
        const errors: Error[] = [];
        gw.addEventListener("error", ({ detail }) => errors.push(detail as Error));
        await gw.connect();
        return { gw, errors };
      },
    });
  } finally {
    for (const c of clients) await c.disconnect({ timeout: 500 }).catch(() => {});
    await peer?.close();
    await broker.close();
    await Deno.remove(dir, { recursive: true }).catch(() => {});
  }
}

/** The JSON bodies received on `topic`. */
export function bodies(peer: TbPeer, topic: string): unknown[] {
  return peer.on(topic).map((m) => m.json);
}
