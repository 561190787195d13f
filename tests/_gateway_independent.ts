/**
 * Shared setup of the independent gateway suite (`gateway_independent_*_test.ts`):
 * a real Mosquitto broker, an MQTT.js client playing ThingsBoard's side of
 * the gateway MQTT API, and a factory of `TBGatewayMqttClient`s that closes
 * everything it made. Written from ThingsBoard's gateway API and the public
 * docs only.
 *
 * @module
 */

import { TBGatewayMqttClient, type TBGatewayMqttClientOptions } from "../mod.ts";
import { type Mosquitto, startMosquitto } from "./_mosquitto.ts";
import { MqttJsPeer, type Msg, type Variant } from "./_mqttjs_peer.ts";

export { delay, type Msg, until, type Variant } from "./_mqttjs_peer.ts";

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

export const V5: Variant = { protocolVersion: 5, engine: "wasm", label: "[MQTT 5, wasm]" };
export const V4: Variant = { protocolVersion: 4, engine: "ts", label: "[MQTT 3.1.1, ts]" };
export const VARIANTS: readonly Variant[] = [V5, V4];

/**
 * MQTT.js playing ThingsBoard: it sees everything the gateway publishes
 * (`v1/gateway/#`, `v1/devices/me/#`, with No Local so never its own
 * messages) and publishes what ThingsBoard would push. Its session persists
 * on the broker (which keeps it across a restart), so nothing the gateway
 * sends while the peer reconnects is lost to the test; the broker re-sending
 * (DUP) what the peer already had after its own restart is the broker-to-peer
 * leg, not the gateway's doing, and is recorded apart in `redelivered`.
 * `getSessionLimits` requests are ignored unless `limits` is set.
 */
export class TbPeer extends MqttJsPeer {
  static start(port: number): Promise<TbPeer> {
    return new TbPeer(port, {
      filters: ["v1/gateway/#", "v1/devices/me/#"],
      persistent: true,
      reconnectPeriod: 50,
      separateRedeliveries: true,
    }).started();
  }

  /** Everything received on the gateway topics, in order. */
  gatewayTraffic(): Msg[] {
    return this.received.filter((m) => m.topic.startsWith("v1/gateway/"));
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
