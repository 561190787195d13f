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

import { TBDeviceMqttClient, type TBDeviceMqttClientOptions } from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_mosquitto.ts";
import { isLimitsRequest, ME, MqttJsPeer, type Msg, type Variant } from "./_mqttjs_peer.ts";

export { delay, ME, type Msg, until, type Variant, within } from "./_mqttjs_peer.ts";

export const LIMITS_ID = 2_147_483_647;
export const DEFAULT_LIMITS = {
  maxPayloadSize: 65_536,
  maxInflightMessages: 100,
  rateLimits: { messages: null, telemetryMessages: null, telemetryDataPoints: null },
};

export const V5_WASM: Variant = { protocolVersion: 5, engine: "wasm", label: "[MQTT 5, wasm]" };
export const V4_WASM: Variant = { protocolVersion: 4, engine: "wasm", label: "[MQTT 3.1.1, wasm]" };
export const V5_TS: Variant = { protocolVersion: 5, engine: "ts", label: "[MQTT 5, ts]" };
export const V4_TS: Variant = { protocolVersion: 4, engine: "ts", label: "[MQTT 3.1.1, ts]" };

let tokenCounter = 0;
export const newToken = () => `TB_TOKEN_${Date.now().toString(36)}_${++tokenCounter}`;

export function idOf(topic: string, prefix: string): number | undefined {
  if (!topic.startsWith(prefix)) return undefined;
  const rest = topic.slice(prefix.length);
  return /^\d+$/.test(rest) ? Number(rest) : undefined;
}

/**
 * The MQTT.js side playing ThingsBoard on the broker: it sees everything a
 * device sends (`v1/devices/me/#`, `/provision/request`) and answers
 * `getSessionLimits` with `limits` (default {@linkcode DEFAULT_LIMITS};
 * `false` ignores the request).
 */
export class TbPeer extends MqttJsPeer {
  /** Connects and subscribes to everything a device sends (No Local: not our own messages). */
  static start(
    port: number,
    options: { clientId?: string; persistent?: boolean } = {},
  ): Promise<TbPeer> {
    const persistent = options.persistent ?? false;
    return new TbPeer(port, {
      filters: [`${ME}/#`, "/provision/request"],
      clientId: options.clientId,
      persistent,
      reconnectPeriod: persistent ? 100 : 0,
      // A broker restarted with the peer's session sends it again (DUP) what it had not
      // acknowledged yet: that is the broker-to-peer leg, not the device's doing.
      separateRedeliveries: persistent,
      limits: DEFAULT_LIMITS,
    }).started();
  }

  /** What the device sent, without the background `getSessionLimits` requests. */
  override traffic(): Msg[] {
    return this.received.filter((m) => !isLimitsRequest(m));
  }

  onPrefix(prefix: string): Msg[] {
    return this.traffic().filter((m) => m.topic.startsWith(prefix));
  }

  limitsRequests(): Msg[] {
    return this.received.filter(isLimitsRequest);
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
