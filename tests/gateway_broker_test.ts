/**
 * The gateway client on a plain MQTT broker (Mosquitto), with a peer
 * playing ThingsBoard's side: what it publishes arrives as sent, and its own
 * messages coming back from the broker (3.1.1 has no No Local) are not taken
 * for ThingsBoard's.
 *
 * @module
 */

import assert from "node:assert/strict";
import { MqttClient, type PublishPacket } from "../core/mqtt/mod.ts";
import { type GatewayAttributeUpdate, TBGatewayMqttClient } from "../core/gateway/mod.ts";
import { mosquittoPath, startMosquitto } from "./_mosquitto.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

for (const protocolVersion of [4, 5] as const) {
  Deno.test({
    name: `TBGatewayMqttClient ignores its own echo on a plain broker [MQTT ${protocolVersion}]`,
    ignore: mosquittoPath() === undefined,
    async fn() {
      await using broker = await startMosquitto();
      const peer = new MqttClient({ host: "127.0.0.1", port: broker.port, reconnect: false });
      const seen: PublishPacket[] = [];
      peer.addEventListener("message", (e) => void seen.push(e.detail));
      await peer.connect();
      await peer.subscribe([{ topicFilter: "v1/gateway/#", qos: 1, noLocal: true }]);
      const gateway = new TBGatewayMqttClient({
        host: "127.0.0.1",
        port: broker.port,
        accessToken: "GW",
        protocolVersion,
        engine: "ts",
        sessionLimits: false,
        reconnect: false,
      });
      const errors: Error[] = [];
      const updates: GatewayAttributeUpdate[] = [];
      gateway.addEventListener("error", (e) => void errors.push(e.detail));
      gateway.subscribeToAttributes("A", (u) => void updates.push(u));
      gateway.setRpcRequestHandler(({ method }) => ({ method }));
      try {
        await gateway.connect();
        await gateway.sendAttributes("A", { fw: "1.0" });
        await gateway.sendRpcReply("A", 1, { ok: true });
        const send = (topic: string, body: string) =>
          peer.publish(topic, encoder.encode(body), { qos: 1 });
        await send("v1/gateway/rpc", '{"device":"A","data":{"id":2,"method":"ping"}}');
        await send("v1/gateway/attributes", '{"device":"A","data":{"mode":"on"}}');
        for (let i = 0; i < 400 && (updates.length === 0 || seen.length < 3); i++) {
          await new Promise((r) => setTimeout(r, 5));
        }
        assert.deepEqual(updates, [{ device: "A", values: { mode: "on" }, deleted: [] }]);
        assert.deepEqual(
          seen.map((p) => [p.topic, decoder.decode(p.payload)]),
          [
            ["v1/gateway/attributes", '{"A":{"fw":"1.0"}}'],
            ["v1/gateway/rpc", '{"device":"A","id":1,"data":{"ok":true}}'],
            ["v1/gateway/rpc", '{"device":"A","id":2,"data":{"method":"ping"}}'],
          ],
        );
        assert.deepEqual(errors, []);
      } finally {
        await gateway.disconnect({ timeout: 1000 });
        await peer.disconnect({ timeout: 1000 });
      }
    },
  });
}
